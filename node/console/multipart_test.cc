// The strict multipart/form-data reader: what a browser sends is read
// exactly, and every malformed body is refused naming what is wrong.
#include "node/console/multipart.h"

#include "gtest/gtest.h"

namespace cbx::node::console {
namespace {

constexpr char kType[] = "multipart/form-data; boundary=----cbxB0undary";

std::string Body(const std::string& parts) {
  return parts + "------cbxB0undary--\r\n";
}

std::string TextPart(const std::string& name, const std::string& value) {
  return "------cbxB0undary\r\nContent-Disposition: form-data; name=\"" + name +
         "\"\r\n\r\n" + value + "\r\n";
}

std::string FilePart(const std::string& name, const std::string& filename,
                     const std::string& content) {
  return "------cbxB0undary\r\nContent-Disposition: form-data; name=\"" + name +
         "\"; filename=\"" + filename +
         "\"\r\nContent-Type: application/json\r\n\r\n" + content + "\r\n";
}

TEST(MultipartTest, ReadsWhatABrowserSends) {
  // A file's bytes are kept as they are, CRLFs and all, even a line that
  // looks like a delimiter without its leading CRLF.
  std::string content = "{\"a\":1}\r\n------cbxB0undar\r\n";
  content.push_back('\0');
  content += "x\xff";
  absl::StatusOr<MultipartForm> form =
      ParseMultipart(kType, Body(TextPart("form_token", "abc") +
                                 FilePart("export", "mk.json", content) +
                                 FilePart("other", "", "")));
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(First(form->fields, "form_token"), "abc");
  ASSERT_EQ(form->files.count("export"), 1u);
  EXPECT_EQ(form->files.at("export").filename, "mk.json");
  EXPECT_EQ(form->files.at("export").content_type, "application/json");
  EXPECT_EQ(form->files.at("export").content, content);
  ASSERT_EQ(form->files.count("other"), 1u);
  EXPECT_EQ(form->files.at("other").content, "");
  // A quoted boundary, and no CRLF after the close delimiter.
  absl::StatusOr<MultipartForm> quoted =
      ParseMultipart("Multipart/Form-Data; boundary=\"----cbxB0undary\"",
                     TextPart("a", "b") + "------cbxB0undary--");
  ASSERT_TRUE(quoted.ok()) << quoted.status();
  EXPECT_EQ(First(quoted->fields, "a"), "b");
}

TEST(MultipartTest, RefusesMalformedBodiesNamingWhatIsWrong) {
  const std::string ok = TextPart("a", "b");
  const struct {
    std::string type, body, says;
  } cases[] = {
      {"multipart/mixed; boundary=x", Body(ok), "not multipart/form-data"},
      {"multipart/form-data", Body(ok), "no boundary"},
      {"multipart/form-data; boundary=", Body(ok), "1 to 70"},
      {"multipart/form-data; boundary=a{b", Body(ok), "1 to 70"},
      {kType, "preamble\r\n" + Body(ok), "does not begin with the boundary"},
      {kType, ok + "------cbxB0undary",
       "part 2: the boundary is not followed by CRLF"},
      {kType, ok + "------cbxB0undary--\r\nmore", "after the closing boundary"},
      {kType,
       "------cbxB0undary\r\nContent-Disposition: form-data; "
       "name=\"a\"\r\n\r\nno end",
       "part 1: no boundary after its content"},
      {kType,
       Body("------cbxB0undary\r\nContent-Disposition: form-data; "
            "name=\"a\"\nX: y\r\n\r\nb\r\n"),
       "part 1: header content-disposition: the form holds a control"},
      {kType,
       Body("------cbxB0undary\r\nContent-Type: text/plain\r\n\r\nb\r\n"),
       "part 1: no Content-Disposition"},
      {kType,
       Body("------cbxB0undary\r\nContent-Disposition: attachment; "
            "name=\"a\"\r\n\r\nb\r\n"),
       "not form-data"},
      {kType,
       Body("------cbxB0undary\r\nContent-Disposition: form-data; "
            "filename=\"f\"\r\n\r\nb\r\n"),
       "part 1: no name"},
      {kType,
       Body("------cbxB0undary\r\nContent-Disposition: form-data; "
            "name=\"a\"; name=\"b\"\r\n\r\nb\r\n"),
       "given twice"},
      {kType,
       Body("------cbxB0undary\r\nContent-Disposition: form-data; "
            "name=\"a\"; size=3\r\n\r\nb\r\n"),
       "unknown parameter 'size'"},
      {kType,
       Body("------cbxB0undary\r\nContent-Disposition: form-data; "
            "name=\"a\r\nX-Evil: 1\r\n\r\nb\r\n"),
       "part 1:"},
      {kType,
       Body(ok + "------cbxB0undary\r\nContent-Disposition: form-data; "
                 "name=\"a\"\r\nX-Other: 1\r\n\r\nb\r\n"),
       "part 2: header 'x-other' is not accepted"},
      {kType, Body(TextPart("a", std::string("b\x01", 2))),
       "part 1: field a: the form holds a control character"},
      {kType, Body(TextPart("a", "\xc3")), "not UTF-8"},
      {kType, Body(FilePart("f", "1", "x") + FilePart("f", "2", "y")),
       "part 2: a second file named f"},
      {kType, Body("------cbxB0undary\r\n" + std::string(9000, 'x')),
       "part 1: its headers do not end in a blank line within 8 KiB"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<MultipartForm> form = ParseMultipart(c.type, c.body);
    ASSERT_FALSE(form.ok()) << c.says;
    EXPECT_EQ(form.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(form.status().message()).find(c.says),
              std::string::npos)
        << form.status() << " wanted: " << c.says;
  }
}

TEST(MultipartTest, BoundsTheNumberOfParts) {
  std::string parts;
  for (int i = 0; i < 5; ++i) parts += TextPart("a", "b");
  EXPECT_TRUE(ParseMultipart(kType, Body(parts), 5).ok());
  absl::StatusOr<MultipartForm> more =
      ParseMultipart(kType, Body(parts + TextPart("a", "b")), 5);
  ASSERT_FALSE(more.ok());
  EXPECT_NE(std::string(more.status().message()).find("more than 5 parts"),
            std::string::npos);
}

}  // namespace
}  // namespace cbx::node::console
