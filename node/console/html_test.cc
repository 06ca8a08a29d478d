#include "node/console/html.h"

#include "gtest/gtest.h"
#include "node/console/sessions.h"

namespace cbx::node::console {
namespace {

TEST(HtmlTest, EscapeCoversElementsAndAttributes) {
  EXPECT_EQ(
      Escape("<script>alert('x') & \"y\"</script>"),
      "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  EXPECT_EQ(Escape("Кривично дело"), "Кривично дело");
}

TEST(HtmlTest, ParseFormDecodesAndKeepsRepeats) {
  absl::StatusOr<Form> form =
      ParseForm("type=telegram_username&type=phone&v=%2B389+70&empty=&flag");
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ((*form)["type"],
            (std::vector<std::string>{"telegram_username", "phone"}));
  EXPECT_EQ(First(*form, "v"), "+389 70");
  EXPECT_EQ(First(*form, "empty"), "");
  EXPECT_EQ(form->count("flag"), 1u);
  EXPECT_EQ(First(*form, "absent"), "");
}

TEST(HtmlTest, ParseFormRefusesWhatIsNotText) {
  for (const char* bad : {"a=%zz", "a=%4", "a=%00", "a=%ff%fe", "a%0a=1"}) {
    EXPECT_EQ(ParseForm(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_TRUE(ParseForm("note=line+1%0D%0Aline+2").ok());
  EXPECT_EQ(ParseForm("a=1&b=2&c=3", 2).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HtmlTest, UrlEncodeRoundTripsThroughParseForm) {
  const std::string value = "MK-2026/0142 & co+1 ш";
  EXPECT_EQ(UrlEncode("a-b_c.d~e"), "a-b_c.d~e");
  absl::StatusOr<Form> form = ParseForm("number=" + UrlEncode(value));
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(First(*form, "number"), value);
}

TEST(HtmlTest, CookieValueFindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("a=1; cbx_console=abc; b=2", "cbx_console"), "abc");
  EXPECT_EQ(CookieValue("xcbx_console=abc", "cbx_console"), "");
  EXPECT_EQ(CookieValue("", "cbx_console"), "");
}

TEST(HtmlTest, PageEscapesItsFrame) {
  PageFrame frame;
  frame.lang = i18n::Lang::kMk;
  frame.title = "<Cases>";
  frame.node = "MK";
  frame.caller = "MK/PPO-Skopje (prosecutor)";
  const std::string page = Page(frame, "<p>body</p>");
  EXPECT_NE(page.find("<html lang=\"mk\">"), std::string::npos);
  EXPECT_NE(page.find("<h1>&lt;Cases&gt;</h1>"), std::string::npos);
  EXPECT_NE(page.find("<p>body</p>"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  // No form token (the server's own error pages): no chooser.
  EXPECT_EQ(page.find("action=\"/language\""), std::string::npos);
}

// The chooser: every catalog language in its own name with its lang
// attribute, the page's selected, the form token and the way back, its
// label and button in the page's language.
TEST(HtmlTest, PageHasTheLanguageChooser) {
  PageFrame frame;
  frame.lang = i18n::Lang::kSq;
  frame.title = "t";
  frame.form_token = std::string(64, 'f');
  frame.return_to = "/case?number=A%2F1&x=\"";
  const std::string page = Page(frame, "");
  EXPECT_NE(page.find("<html lang=\"sq\">"), std::string::npos);
  EXPECT_NE(page.find("<form class=\"language\" method=\"post\" "
                      "action=\"/language\"><input type=\"hidden\" "
                      "name=\"form_token\" value=\"" +
                      std::string(64, 'f') + "\">"),
            std::string::npos);
  EXPECT_NE(page.find("name=\"return_to\" value=\"/case?number=A%2F1&amp;"
                      "x=&quot;\""),
            std::string::npos);
  EXPECT_NE(page.find("<label for=\"language\">Gjuha</label>"),
            std::string::npos);
  EXPECT_NE(page.find(">Ndrysho</button>"), std::string::npos);
  for (i18n::Lang lang : i18n::Languages()) {
    const std::string code(lang.code());
    const std::string option = "<option value=\"" + code + "\" lang=\"" + code +
                               "\"" + (lang == frame.lang ? " selected" : "") +
                               ">" + Escape(i18n::LanguageName(lang)) +
                               "</option>";
    EXPECT_NE(page.find(option), std::string::npos) << option;
  }
  EXPECT_NE(page.find(">српски</option>"), std::string::npos);
  EXPECT_NE(page.find(">srpski</option>"), std::string::npos);
}

TEST(SessionStoreTest, ExpiresIdleAndOldSessions) {
  SessionStore::Options options;
  options.idle_ms = 100;
  options.max_ms = 250;
  SessionStore store(options);
  const Session s = store.Start("FP", 1000);
  EXPECT_EQ(s.id.size(), 64u);
  EXPECT_EQ(s.form_token.size(), 64u);
  EXPECT_NE(s.id, s.form_token);
  EXPECT_TRUE(store.Find(s.id, "FP", 1099).has_value());
  EXPECT_TRUE(store.Find(s.id, "FP", 1198).has_value());   // idle restarts
  EXPECT_FALSE(store.Find(s.id, "FP", 1250).has_value());  // max reached
  EXPECT_EQ(store.size(), 0u);
  const Session t = store.Start("FP", 2000);
  EXPECT_FALSE(store.Find(t.id, "FP", 2100).has_value());  // idle
}

TEST(SessionStoreTest, BoundToItsCertificateAndBounded) {
  SessionStore::Options options;
  options.max_sessions = 2;
  SessionStore store(options);
  const Session a = store.Start("A", 1);
  EXPECT_FALSE(store.Find(a.id, "B", 2).has_value());
  EXPECT_TRUE(store.Find(a.id, "A", 3).has_value());
  const Session b = store.Start("B", 4);
  const Session c = store.Start("C", 5);  // a is the least recently seen
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.Find(a.id, "A", 6).has_value());
  EXPECT_TRUE(store.Find(c.id, "C", 6).has_value());
  EXPECT_TRUE(SessionStore::FormTokenMatches(c, c.form_token));
  EXPECT_FALSE(SessionStore::FormTokenMatches(c, b.form_token));
  EXPECT_FALSE(SessionStore::FormTokenMatches(c, ""));
  store.End(c.id);
  EXPECT_FALSE(store.Find(c.id, "C", 7).has_value());
}

}  // namespace
}  // namespace cbx::node::console
