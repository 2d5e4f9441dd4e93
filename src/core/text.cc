#include "core/text.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace ioc::core {
namespace {

// Base letter of each precomposed Latin code point: a-z = fold to that letter, '*' = folds to
// two letters (see kMultiLetters), '.' = no ASCII base, kept as is. Generated from the Unicode
// canonical decompositions plus the stroked letters (đ, ł, ø, ...) that have none.

// U+00C0..U+024F, 16 code points per row.
constexpr std::string_view kLatin =
    "aaaaaa*ceeeeiiii"   // U+00C0
    "dnooooo.ouuuuy**"   // U+00D0
    "aaaaaa*ceeeeiiii"   // U+00E0
    "dnooooo.ouuuuy*y"   // U+00F0
    "aaaaaaccccccccdd"   // U+0100
    "ddeeeeeeeeeegggg"   // U+0110
    "gggghhhhiiiiiiii"   // U+0120
    "ii**jjkkklllllll"   // U+0130
    "lllnnnnnnn..oooo"   // U+0140
    "oo**rrrrrrssssss"   // U+0150
    "ssttttttuuuuuuuu"   // U+0160
    "uuuuwwyyyzzzzzzs"   // U+0170
    "bbbb...ccdddd..."   // U+0180
    ".ffg...ikkl..nno"   // U+0190
    "oo**pp.....ttttu"   // U+01A0
    "u.vyyzz........."   // U+01B0
    "....*********aai"   // U+01C0
    "ioouuuuuuuuuu.aa"   // U+01D0
    "aa**ggggkkoooo.."   // U+01E0
    "j***gg..nnaa**oo"   // U+01F0
    "aaaaeeeeiiiioooo"   // U+0200
    "rrrruuuusstt..hh"   // U+0210
    "nd**zzaaeeoooooo"   // U+0220
    "ooyylntj**acclts"   // U+0230
    "z..b..eejj.qrryy";  // U+0240

// U+1E00..U+1EFF, 16 code points per row.
constexpr std::string_view kLatinExtAdditional =
    "aabbbbbbccdddddd"   // U+1E00
    "ddddeeeeeeeeeeff"   // U+1E10
    "gghhhhhhhhhhiiii"   // U+1E20
    "kkkkkkllllllllmm"   // U+1E30
    "mmmmnnnnnnnnoooo"   // U+1E40
    "oooopppprrrrrrrr"   // U+1E50
    "sssssssssstttttt"   // U+1E60
    "ttuuuuuuuuuuvvvv"   // U+1E70
    "wwwwwwwwwwxxxxyy"   // U+1E80
    "zzzzzzhtwyasss*."   // U+1E90
    "aaaaaaaaaaaaaaaa"   // U+1EA0
    "aaaaaaaaeeeeeeee"   // U+1EB0
    "eeeeeeeeiiiioooo"   // U+1EC0
    "oooooooooooooooo"   // U+1ED0
    "oooouuuuuuuuuuuu"   // U+1EE0
    "uuyyyyyyyy**..yy";  // U+1EF0

struct MultiLetter {
  char32_t cp;
  const char* letters;
};

constexpr MultiLetter kMultiLetters[] = {
    {0x00C6, "ae"}, {0x00DE, "th"}, {0x00DF, "ss"}, {0x00E6, "ae"}, {0x00FE, "th"}, {0x0132, "ij"},
    {0x0133, "ij"}, {0x0152, "oe"}, {0x0153, "oe"}, {0x01A2, "oi"}, {0x01A3, "oi"}, {0x01C4, "dz"},
    {0x01C5, "dz"}, {0x01C6, "dz"}, {0x01C7, "lj"}, {0x01C8, "lj"}, {0x01C9, "lj"}, {0x01CA, "nj"},
    {0x01CB, "nj"}, {0x01CC, "nj"}, {0x01E2, "ae"}, {0x01E3, "ae"}, {0x01F1, "dz"}, {0x01F2, "dz"},
    {0x01F3, "dz"}, {0x01FC, "ae"}, {0x01FD, "ae"}, {0x0222, "ou"}, {0x0223, "ou"}, {0x0238, "db"},
    {0x0239, "qp"}, {0x1E9E, "ss"}, {0x1EFA, "ll"}, {0x1EFB, "ll"},
};

constexpr char32_t kLatinFirst = 0x00C0;
constexpr char32_t kLatinExtAdditionalFirst = 0x1E00;
static_assert(kLatin.size() == 0x0250 - kLatinFirst);
static_assert(kLatinExtAdditional.size() == 0x1F00 - kLatinExtAdditionalFirst);

// Decodes one code point at s[i]. Returns its length in bytes, or 0 if the bytes there are not
// well-formed UTF-8. Never reads past s.size().
size_t decodeOne(std::string_view s, size_t i, char32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;  // Continuation byte, C0/C1 (always overlong) or F5..FF (above U+10FFFF).
  }
  if (s.size() - i < len) return 0;
  // Restricting the second byte (Unicode Table 3-7) rules out overlongs, surrogates and
  // code points above U+10FFFF without checking the decoded value afterwards.
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 == 0xE0) {
    lo = 0xA0;
  } else if (b0 == 0xED) {
    hi = 0x9F;
  } else if (b0 == 0xF0) {
    lo = 0x90;
  } else if (b0 == 0xF4) {
    hi = 0x8F;
  }
  for (size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(k);
    if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  return len;
}

bool isSpace(char32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Invisible code points: combining marks (NFD tones and vowel marks live in U+0300..U+036F),
// controls, zero-width characters and the soft hyphen.
bool isDropped(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xAD || (cp >= 0x0300 && cp <= 0x036F) ||
         (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
         (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F) ||
         (cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF;
}

// ASCII replacement for cp, or empty if cp has none and must be copied through.
std::string_view asciiFor(char32_t cp, char& scratch) {
  char base = '.';
  if (cp < 0x80) {
    base = static_cast<char>(cp);
    if (base >= 'A' && base <= 'Z') base = static_cast<char>(base - 'A' + 'a');
  } else if (cp >= 0xFF01 && cp <= 0xFF5E) {
    return asciiFor(cp - 0xFEE0, scratch);  // Fullwidth forms from CJK input methods.
  } else if (cp >= kLatinFirst && cp < kLatinFirst + kLatin.size()) {
    base = kLatin[cp - kLatinFirst];
  } else if (cp >= kLatinExtAdditionalFirst &&
             cp < kLatinExtAdditionalFirst + kLatinExtAdditional.size()) {
    base = kLatinExtAdditional[cp - kLatinExtAdditionalFirst];
  }
  if (base == '*') {
    const auto* it = std::lower_bound(std::begin(kMultiLetters), std::end(kMultiLetters), cp,
                                      [](const MultiLetter& m, char32_t c) { return m.cp < c; });
    if (it != std::end(kMultiLetters) && it->cp == cp) return it->letters;
    return {};
  }
  if (base == '.') return {};
  scratch = base;
  return {&scratch, 1};
}

}  // namespace

std::string foldVietnamese(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  bool pending_space = false;
  size_t i = 0;
  while (i < utf8.size()) {
    char32_t cp = 0;
    const size_t n = decodeOne(utf8, i, cp);
    if (n == 0) {  // Drop one byte and resynchronise on the next.
      ++i;
      continue;
    }
    const std::string_view original = utf8.substr(i, n);
    i += n;
    if (isSpace(cp)) {
      pending_space = true;
      continue;
    }
    if (isDropped(cp)) continue;
    char scratch = 0;
    std::string_view piece = asciiFor(cp, scratch);
    if (piece.empty()) piece = original;
    // Leading whitespace never emits a space, trailing whitespace never gets the chance.
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.append(piece);
  }
  return out;
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path: most of what we validate is ASCII JSON.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t cp = 0;
    const size_t n = decodeOne(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

// The length of the UTF-8 sequence at s[i] and its code point; 0 when malformed or overlong.
size_t utf8Length(std::string_view s, size_t i, uint32_t& cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  cp = n == 1 ? c : c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

std::string xmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t n = utf8Length(text, i, cp);
    const bool allowed = n > 0 && (cp >= 0x20 || cp == '\t' || cp == '\n' || cp == '\r') &&
                         cp != 0xFFFE && cp != 0xFFFF;
    if (!allowed) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i += n > 0 ? n : 1;
      continue;
    }
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";
        break;  // a raw CR would be normalised away by parsers
      default:
        out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

bool isPlausibleEmail(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  size_t at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= a.size() ||
      a.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  for (char c : a) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == '"' || c == '(' ||
        c == ')' || c == ';' || c == '\\') {
      return false;
    }
  }
  return a.substr(at + 1).find('.') != std::string_view::npos;
}

}  // namespace ioc::core
