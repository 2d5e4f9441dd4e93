#pragma once
// A sorted-vector map for nlohmann::basic_json's objects (ObjectType): one allocation per
// object instead of one node per member, members contiguous and in key order (so iteration,
// dump() and comparisons are exactly std::map's).
#include <algorithm>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ioc::core {

template <class Key, class T, class IgnoredLess = std::less<Key>,
          class IgnoredAllocator = std::allocator<std::pair<const Key, T>>>
class SortedMap : public std::vector<std::pair<Key, T>> {
 public:
  using key_type = Key;
  using mapped_type = T;
  using Container = std::vector<std::pair<Key, T>>;
  using value_type = typename Container::value_type;
  using iterator = typename Container::iterator;
  using const_iterator = typename Container::const_iterator;
  using size_type = typename Container::size_type;
  using key_compare = std::less<>;

  SortedMap() noexcept = default;
  template <class It>
  SortedMap(It first, It last) {
    insert(first, last);
  }
  SortedMap(std::initializer_list<value_type> init) { insert(init.begin(), init.end()); }

  template <class K>
  iterator find(const K& key) {
    auto it = lowerBound(key);
    return it != this->end() && !(key < it->first) ? it : this->end();
  }
  template <class K>
  const_iterator find(const K& key) const {
    auto it = lowerBound(key);
    return it != this->end() && !(key < it->first) ? it : this->end();
  }
  template <class K>
  size_type count(const K& key) const {
    return find(key) == this->end() ? 0 : 1;
  }
  template <class K>
  bool contains(const K& key) const {
    return find(key) != this->end();
  }

  template <class K, class V>
  std::pair<iterator, bool> emplace(K&& key, V&& value) {
    auto it = lowerBound(key);
    if (it != this->end() && !(key < it->first)) return {it, false};
    return {Container::emplace(it, std::forward<K>(key), std::forward<V>(value)), true};
  }
  //! O(1) when the key goes last (members added in order), else as emplace.
  template <class K, class V>
  iterator emplace_hint(const_iterator hint, K&& key, V&& value) {
    if (hint == this->cend() && (this->empty() || this->back().first < key)) {
      Container::emplace_back(std::forward<K>(key), std::forward<V>(value));
      return std::prev(this->end());
    }
    return emplace(std::forward<K>(key), std::forward<V>(value)).first;
  }
  template <class K, class V>
  std::pair<iterator, bool> insert_or_assign(K&& key, V&& value) {
    auto [it, inserted] = emplace(std::forward<K>(key), std::forward<V>(value));
    if (!inserted) it->second = std::forward<V>(value);
    return {it, inserted};
  }
  std::pair<iterator, bool> insert(value_type&& v) {
    return emplace(std::move(v.first), std::move(v.second));
  }
  std::pair<iterator, bool> insert(const value_type& v) { return emplace(v.first, v.second); }
  template <class It>
  void insert(It first, It last) {
    for (; first != last; ++first) emplace(first->first, first->second);
  }

  template <class K>
  T& operator[](K&& key) {
    auto it = lowerBound(key);
    if (it != this->end() && !(key < it->first)) return it->second;
    return Container::emplace(it, std::forward<K>(key), T())->second;
  }
  template <class K>
  T& at(const K& key) {
    auto it = find(key);
    if (it == this->end()) throw std::out_of_range("key not found");
    return it->second;
  }
  template <class K>
  const T& at(const K& key) const {
    auto it = find(key);
    if (it == this->end()) throw std::out_of_range("key not found");
    return it->second;
  }

  template <class K, std::enable_if_t<!std::is_convertible_v<K, const_iterator>, int> = 0>
  size_type erase(const K& key) {
    auto it = find(key);
    if (it == this->end()) return 0;
    Container::erase(it);
    return 1;
  }
  iterator erase(iterator pos) { return Container::erase(pos); }
  iterator erase(const_iterator pos) { return Container::erase(pos); }
  iterator erase(const_iterator first, const_iterator last) {
    return Container::erase(first, last);
  }

 private:
  template <class K>
  iterator lowerBound(const K& key) {
    return std::lower_bound(this->begin(), this->end(), key,
                            [](const value_type& v, const K& k) { return v.first < k; });
  }
  template <class K>
  const_iterator lowerBound(const K& key) const {
    return std::lower_bound(this->begin(), this->end(), key,
                            [](const value_type& v, const K& k) { return v.first < k; });
  }
};

}  // namespace ioc::core
