#include "core/text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ioc::core {
namespace {

// Splits valid UTF-8 into code points (test helper; input is trusted).
std::vector<std::string> codePoints(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

struct VowelForms {
  const char* forms;  // precomposed (NFC) code points
  char base;
};

// Every Vietnamese vowel with a vowel mark and/or tone, plus đ: 67 lower + 67 upper = 134.
constexpr VowelForms kVietnamese[] = {
    {"àáảãạ", 'a'},  {"ăằắẳẵặ", 'a'}, {"âầấẩẫậ", 'a'}, {"èéẻẽẹ", 'e'},  {"êềếểễệ", 'e'},
    {"ìíỉĩị", 'i'},  {"òóỏõọ", 'o'},  {"ôồốổỗộ", 'o'}, {"ơờớởỡợ", 'o'}, {"ùúủũụ", 'u'},
    {"ưừứửữự", 'u'}, {"ỳýỷỹỵ", 'y'},  {"đ", 'd'},      {"ÀÁẢÃẠ", 'a'},  {"ĂẰẮẲẴẶ", 'a'},
    {"ÂẦẤẨẪẬ", 'a'}, {"ÈÉẺẼẸ", 'e'},  {"ÊỀẾỂỄỆ", 'e'}, {"ÌÍỈĨỊ", 'i'},  {"ÒÓỎÕỌ", 'o'},
    {"ÔỒỐỔỖỘ", 'o'}, {"ƠỜỚỞỠỢ", 'o'}, {"ÙÚỦŨỤ", 'u'},  {"ƯỪỨỬỮỰ", 'u'}, {"ỲÝỶỸỴ", 'y'},
    {"Đ", 'd'},
};

TEST(FoldVietnamese, AllPrecomposedVowelFormsAndDStroke) {
  size_t count = 0;
  for (const auto& v : kVietnamese) {
    for (const auto& cp : codePoints(v.forms)) {
      ASSERT_GT(cp.size(), 1u) << cp;
      EXPECT_EQ(foldVietnamese(cp), std::string(1, v.base)) << cp;
      EXPECT_TRUE(isValidUtf8(cp)) << cp;
      ++count;
    }
  }
  EXPECT_EQ(count, 134u);
}

TEST(FoldVietnamese, DecomposedFormsWithCombiningMarks) {
  // NFD: base letter, optional vowel mark (breve, circumflex, horn), optional tone.
  const std::vector<std::string> tones = {"",       "\u0300", "\u0301", "\u0309",
                                          "\u0303", "\u0323", "\u0340", "\u0341"};
  const std::vector<std::string> marks = {"", "\u0306", "\u0302", "\u031B"};
  size_t count = 0;
  for (char base : std::string("aeiouyAEIOUY")) {
    const std::string expected(1, static_cast<char>(base | 0x20));
    for (const auto& mark : marks) {
      for (const auto& tone : tones) {
        const std::string nfd = std::string(1, base) + mark + tone;
        EXPECT_EQ(foldVietnamese(nfd), expected) << nfd;
        // Marks in non-canonical order must fold the same.
        EXPECT_EQ(foldVietnamese(std::string(1, base) + tone + mark), expected) << nfd;
        ++count;
      }
    }
  }
  EXPECT_EQ(count, 12u * 4u * 8u);
}

TEST(FoldVietnamese, PlaceNamesInEveryFormFoldAlike) {
  const char* variants[] = {
      "Thuận Hoá",  // old-style tone placement, as in the data file
      "Thuận Hóa",  // new-style tone placement
      "thuan hoa",
      "THUẬN  HOÁ",                   // upper case, double space
      "  Thuận\tHoá \n",              // surrounding and inner whitespace
      "Thua\u0323\u0302n Hoa\u0301",  // NFD
      "Thu\u1EADn\u00A0Ho\u00E1",     // NFC with a no-break space
      "THUA\u0302\u0323N HO\u0301A",  // NFD, upper case, mark on the wrong letter
  };
  for (const char* v : variants) EXPECT_EQ(foldVietnamese(v), "thuan hoa") << v;
}

TEST(FoldVietnamese, DStrokeAndOtherLetters) {
  EXPECT_EQ(foldVietnamese("Đà Nẵng"), "da nang");
  EXPECT_EQ(foldVietnamese("đường Điện Biên Phủ"), "duong dien bien phu");
  EXPECT_EQ(foldVietnamese("Bà Rịa–Vũng Tàu"), "ba ria–vung tau");  // en dash kept
  EXPECT_EQ(foldVietnamese("Quận 1, TP.HCM"), "quan 1, tp.hcm");
  EXPECT_EQ(foldVietnamese("Ðặc khu"), "dac khu");  // U+00D0 eth, a common look-alike of Đ
  EXPECT_EQ(foldVietnamese("Straße Œuvre Łódź"), "strasse oeuvre lodz");
  EXPECT_EQ(foldVietnamese("ＨＵẾ"), "hue");  // fullwidth from CJK input methods
  EXPECT_EQ(foldVietnamese("Huế 東京 🚦"), "hue 東京 🚦");
  EXPECT_EQ(foldVietnamese("a\u200Bb\xEF\xBB\xBF"), "ab");  // zero-width space, BOM
}

TEST(FoldVietnamese, EmptyAndWhitespaceOnly) {
  EXPECT_EQ(foldVietnamese(""), "");
  EXPECT_EQ(foldVietnamese("   \t\r\n "), "");
  EXPECT_EQ(foldVietnamese("\u0301\u0323"), "");  // lone combining marks
  EXPECT_EQ(foldVietnamese(" a \u0301 b "), "a b");
}

TEST(FoldVietnamese, InvalidBytesAreDropped) {
  EXPECT_EQ(foldVietnamese("Hu\xFF\xE1\xBA"), "hu");           // stray byte, truncated ế
  EXPECT_EQ(foldVietnamese("\x80\xBFHu\xE1\xBA\xBF"), "hue");  // lone continuation bytes
  EXPECT_EQ(foldVietnamese("a\xC0\x80"
                           "b"),
            "ab");  // overlong NUL
  EXPECT_EQ(foldVietnamese("a\xED\xA0\x80"
                           "b"),
            "ab");  // surrogate
  EXPECT_EQ(foldVietnamese("a\xF4\x90\x80\x80"
                           "b"),
            "ab");                          // above U+10FFFF
  EXPECT_EQ(foldVietnamese("a\xC3"), "a");  // truncated at the very end
}

TEST(FoldVietnamese, NeverReadsPastTheView) {
  // Heap buffers of exact size so ASan catches any overread of a truncated sequence.
  const std::vector<std::string> prefixes = {"\xC3", "\xE1",     "\xE1\xBA",
                                             "\xF0", "\xF0\x9F", "\xF0\x9F\x98"};
  for (const auto& p : prefixes) {
    std::vector<char> buf(p.begin(), p.end());
    EXPECT_EQ(foldVietnamese(std::string_view(buf.data(), buf.size())), "");
    EXPECT_FALSE(isValidUtf8(std::string_view(buf.data(), buf.size())));
  }
}

TEST(FoldVietnamese, RandomBytesGiveValidIdempotentOutput) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> len(0, 24);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int n = 0; n < 20000; ++n) {
    std::vector<char> buf(static_cast<size_t>(len(rng)));
    for (auto& c : buf) c = static_cast<char>(byte(rng));
    const std::string folded = foldVietnamese(std::string_view(buf.data(), buf.size()));
    ASSERT_TRUE(isValidUtf8(folded));
    ASSERT_EQ(foldVietnamese(folded), folded);
  }
}

TEST(FoldVietnamese, EveryCodePointFoldsToValidUtf8) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string s = encode(cp);
    ASSERT_TRUE(isValidUtf8(s)) << std::hex << static_cast<uint32_t>(cp);
    const std::string folded = foldVietnamese(s);
    ASSERT_TRUE(isValidUtf8(folded)) << std::hex << static_cast<uint32_t>(cp);
    ASSERT_EQ(foldVietnamese(folded), folded) << std::hex << static_cast<uint32_t>(cp);
  }
}

TEST(IsValidUtf8, AcceptsWellFormed) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("Thừa Thiên Huế"));
  EXPECT_TRUE(isValidUtf8(std::string_view("\0", 1)));  // NUL is a valid code point
  EXPECT_TRUE(isValidUtf8("\xC2\x80"));                 // U+0080
  EXPECT_TRUE(isValidUtf8("\xDF\xBF"));                 // U+07FF
  EXPECT_TRUE(isValidUtf8("\xE0\xA0\x80"));             // U+0800
  EXPECT_TRUE(isValidUtf8("\xED\x9F\xBF"));             // U+D7FF
  EXPECT_TRUE(isValidUtf8("\xEE\x80\x80"));             // U+E000
  EXPECT_TRUE(isValidUtf8("\xEF\xBF\xBF"));             // U+FFFF
  EXPECT_TRUE(isValidUtf8("\xF0\x90\x80\x80"));         // U+10000
  EXPECT_TRUE(isValidUtf8("\xF0\x9F\x98\x80"));         // U+1F600
  EXPECT_TRUE(isValidUtf8("\xF4\x8F\xBF\xBF"));         // U+10FFFF
}

TEST(IsValidUtf8, RejectsMalformed) {
  EXPECT_FALSE(isValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(isValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(isValidUtf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(isValidUtf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(isValidUtf8("\xC1\xBF"));          // overlong U+007F
  EXPECT_FALSE(isValidUtf8("\xE0\x80\x80"));      // overlong 3-byte
  EXPECT_FALSE(isValidUtf8("\xE0\x9F\xBF"));      // overlong U+07FF
  EXPECT_FALSE(isValidUtf8("\xF0\x80\x80\x80"));  // overlong 4-byte
  EXPECT_FALSE(isValidUtf8("\xF0\x8F\xBF\xBF"));  // overlong U+FFFF
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // U+D800 high surrogate
  EXPECT_FALSE(isValidUtf8("\xED\xBF\xBF"));      // U+DFFF low surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(isValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(isValidUtf8("\xFE"));
  EXPECT_FALSE(isValidUtf8("\xFF"));
  EXPECT_FALSE(isValidUtf8("ok\xE1\xBA"));  // truncated at end after valid text
}

}  // namespace
}  // namespace ioc::core
