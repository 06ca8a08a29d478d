#include "client/text_output.h"

#include <iterator>
#include <algorithm>
#include <string>
#include <vector>

#include "client/strings.h"
#include "client/test_protos.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

using namespace ::cbx::client::testing;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = SplitLines(text);
  EXPECT_EQ(lines.back(), "") << "output ends with a newline";
  lines.pop_back();
  return lines;
}

// The display column at which `needle` starts in `line` (npos if absent).
size_t Column(const std::string& line, const std::string& needle) {
  size_t at = line.find(needle);
  if (at == std::string::npos) return std::string::npos;
  return DisplayWidth(line.substr(0, at));
}

TEST(TextOutputTest, Case) {
  EXPECT_EQ(CaseText(SampleCase(), Lang::kEn),
            "case          MK-2026-0142\n"
            "token         0f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
            "office        MK/PPO-Skopje\n"
            "status        open\n"
            "opened        2026-01\n"
            "role          administrator\n"
            "offences      Non-consensual sharing of intimate or manipulated "
            "material (AI-manipulated)\n"
            "              Running or administering a group or channel for "
            "such material\n"
            "identifiers   telegram_username:smokva_admin "
            "(2025-01-01..2025-06-30)\n"
            "              phone:+38970123456\n"
            "24/7 contact  +389 2 3100 100\n"
            "created       2025-03-14T09:26:53Z\n"
            "updated       2025-03-14T10:26:53Z\n");
}

TEST(TextOutputTest, CaseListInTheChosenLanguage) {
  v1::ListCasesResponse r;
  *r.add_cases() = SampleCase();
  v1::Case closed;
  closed.set_case_number("MK-2025-0007");
  closed.set_status(v1::CASE_STATUS_CLOSED);
  closed.add_offences()->set_code(v1::OFFENCE_CODE_CYBER_STALKING);
  *r.add_cases() = closed;
  std::vector<std::string> lines = Lines(CaseListText(r, Lang::kSr));
  ASSERT_EQ(lines.size(), 4u);
  // Headers, statuses and roles in the chosen language too (issue 14).
  EXPECT_EQ(lines[0].rfind("ПРЕДМЕТ       СТАТУС    ОТВОРЕН  УЛОГА          "
                           "КРИВИЧНА ДЕЛА  ",
                           0),
            0u)
      << lines[0];
  EXPECT_EQ(lines[1].rfind("MK-2026-0142  отворен   2026-01  администратор  "
                           "Дељење интимног или измењеног материјала без "
                           "пристанка (измењено помоћу ВИ)  ",
                           0),
            0u)
      << lines[1];
  // The second offence and identifier continue the row on the next line.
  EXPECT_EQ(lines[2].rfind(std::string(48, ' ') +
                               "Вођење или администрирање групе или канала "
                               "за такав материјал ",
                           0),
            0u)
      << lines[2];
  EXPECT_EQ(lines[3].rfind("MK-2025-0007  затворен  -        -              "
                           "Сајбер прогањање ",
                           0),
            0u)
      << lines[3];
  // Columns line up by characters (Cyrillic is two bytes a letter).
  size_t ids = Column(lines[0], "ИДЕНТИФИКАТОРИ");
  EXPECT_EQ(Column(lines[1],
                   "telegram_username:smokva_admin "
                   "(2025-01-01..2025-06-30)  2025-03-14T10:26:53Z"),
            ids);
  EXPECT_EQ(Column(lines[2], "phone:+38970123456"), ids);
  size_t after_label = lines[3].find("прогањање");
  ASSERT_NE(after_label, std::string::npos);
  EXPECT_EQ(DisplayWidth(lines[3].substr(0, lines[3].find('-', after_label))),
            ids);
  size_t updated = Column(lines[0], "ИЗМЕЊЕН");
  EXPECT_EQ(Column(lines[1], "2025-03-14T10:26:53Z"), updated);
  EXPECT_EQ(lines[3].size() - 1, lines[3].rfind('-'));
  EXPECT_EQ(DisplayWidth(lines[3]), updated + 1);
  EXPECT_EQ(CaseListText(v1::ListCasesResponse(), Lang::kEn), "no cases\n");
}

TEST(TextOutputTest, PeerAnswers) {
  EXPECT_EQ(PeerAnswerText(HitAnswer(), Lang::kEn),
            "RS  HIT      212 ms  1 case reference\n"
            "    case token    abababababababababababababababab\n"
            "    offences      Threat to share intimate or manipulated "
            "material (sextortion) (attempted)\n"
            "    role          poster\n"
            "    matched       telegram_username, observed 2025-01-01.., "
            "your --id 1\n"
            "                  phone, observed when unknown, your --id 2\n"
            "    office        RS/VJT-Beograd\n"
            "    24/7 contact  +381 11 000 0000\n"
            "    status        open\n"
            "    opened        2025-11\n");
  EXPECT_EQ(PeerAnswerText(MissAnswer(), Lang::kEn), "HR  MISS      95 ms\n");
  EXPECT_EQ(PeerAnswerText(ErrorAnswer(), Lang::kEn),
            "BA  ERROR   3001 ms  DEADLINE_EXCEEDED: BA did not answer within "
            "3000 ms\n");
}

TEST(TextOutputTest, PhantomAnswerIsOneLineOfExplanation) {
  v1::PeerAnswer a = MissAnswer();
  a.set_outcome(v1::PEER_OUTCOME_PHANTOM);
  a.set_error("phantom hit: HR's index at version 3 holds identifiers[0]");
  EXPECT_EQ(PeerAnswerText(a, Lang::kEn),
            "HR  PHANTOM     95 ms  phantom hit: HR's index at version 3 holds "
            "identifiers[0]\n");
  a.set_status_code(3);  // INVALID_ARGUMENT: a refused reference
  a.set_error("phantom hit: answer from HR refused\x1b[2J");
  EXPECT_EQ(PeerAnswerText(a, Lang::kEn),
            "HR  PHANTOM     95 ms  INVALID_ARGUMENT: phantom hit: answer from "
            "HR refused?[2J\n");
}

TEST(TextOutputTest, PeersWithPhantomHitsOrAHitRateAlert) {
  v1::ListPeersResponse peers = SamplePeers();
  peers.mutable_peers(0)->set_phantom_hits(2);
  peers.mutable_peers(0)->set_hit_rate_alert("since 2026-01-01: rate\n6%");
  peers.mutable_peers(1)->set_phantom_hits(1);
  std::vector<std::string> lines = Lines(PeersText(peers));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[4],
            "RS: 2 phantom hits; hit-rate alert since 2026-01-01: rate?6%");
  EXPECT_EQ(lines[5], "XK: 1 phantom hit");
}

TEST(TextOutputTest, PeersWithANodeAlert) {
  v1::ListPeersResponse peers = SamplePeers();
  peers.set_node_alert("since 2026-01-01: node.db: No space left on device");
  std::vector<std::string> lines = Lines(PeersText(peers));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1],
            "node alert: since 2026-01-01: node.db: No space left on device");
}

TEST(TextOutputTest, PeersWithADirectoryEquivocation) {
  v1::ListPeersResponse peers = SamplePeers();
  peers.set_directory_alert(
      "directory equivocation: version 4 served by RS (adopted sha256 "
      "1f0c2a3b4c5d6e7f, conflicting sha256 9ab2c3d4e5f60718)");
  std::vector<std::string> lines = Lines(PeersText(peers));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1], "ALERT " + peers.directory_alert());
}

TEST(TextOutputTest, SeveralReferencesAreSeparated) {
  v1::PeerAnswer a = HitAnswer();
  *a.add_references() = SampleReference();
  std::string text = PeerAnswerText(a, Lang::kEn);
  EXPECT_NE(text.find("2 case references\n"), std::string::npos);
  EXPECT_NE(text.find("opened        2025-11\n\n    case token"),
            std::string::npos);
}

TEST(TextOutputTest, Summary) {
  EXPECT_EQ(QuerySummaryText(SampleSummary()),
            "done in 3012 ms: 1 hit (RS), 1 miss (HR), 1 error (BA); query "
            "q-7f3c\n");
  v1::QuerySummary none;
  none.set_query_id("q-1");
  none.add_miss_members("HR");
  none.add_miss_members("SI");
  EXPECT_EQ(QuerySummaryText(none),
            "done in 0 ms: 0 hits, 2 misses (HR, SI), 0 errors; query q-1\n");
}

TEST(TextOutputTest, Hits) {
  std::vector<std::string> lines = Lines(HitsText(SampleHits(), Lang::kEn));
  ASSERT_EQ(lines.size(), 3u);
  const char* headers[] = {"RECEIVED", "CASE ",        "MEMBER",    "OFFICE",
                           "OFFENCES", "ROLE",         "MATCHED",   "STATUS",
                           "OPENED",   "24/7 CONTACT", "CASE TOKEN"};
  const char* cells[] = {
      "2025-03-14T09:26:53Z",
      "MK-2026-0142",
      "RS ",
      "RS/VJT-Beograd",
      "Threat to share intimate or manipulated material (sextortion) "
      "(attempted)",
      "poster",
      "telegram_username, observed 2025-01-01.., your --id 1",
      "open",
      "2025-11",
      "+381 11 000 0000",
      "abababababababababababababababab"};
  for (size_t i = 0; i < std::size(headers); ++i) {
    EXPECT_EQ(Column(lines[1], cells[i]), Column(lines[0], headers[i]))
        << headers[i] << "\n"
        << lines[0] << "\n"
        << lines[1];
  }
  // The second matched identifier continues the MATCHED column.
  EXPECT_EQ(Column(lines[2], "phone, observed when unknown, your --id 2"),
            Column(lines[0], "MATCHED"));
  EXPECT_EQ(HitsText(v1::ListHitsResponse(), Lang::kEn), "no hits\n");
}

// A hit in context (issue 14): the matched value, both windows, the query
// id; grouped per peer case by default; disjoint windows marked '!' and
// explained under the table.
v1::ListHitsResponse HitsInContext() {
  v1::ListHitsResponse r = SampleHits();
  v1::Hit* h = r.mutable_hits(0);
  v1::HitMatch* m = h->add_matches();
  m->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  m->set_value("@Smokva_Admin");
  m->set_normalized("smokva_admin");
  m->set_querier_from_ms(1735689600000);  // 2025-01-01
  m->set_querier_to_ms(1751241600000);    // 2025-06-30
  m->set_peer_from_ms(1609459200000);     // 2021-01-01
  m->set_peer_to_ms(1640908800000);       // 2021-12-31
  m->set_windows_overlap(v1::WINDOWS_OVERLAP_DISJOINT);
  h->set_windows_overlap(v1::WINDOWS_OVERLAP_DISJOINT);
  v1::Hit again = *h;  // the same case found by an earlier query
  again.set_query_id("q-0001");
  again.set_received_at_ms(h->received_at_ms() - 1000);
  *r.add_hits() = again;
  return r;
}

TEST(TextOutputTest, HitsGroupedPerPeerCaseWithTheMatchedValue) {
  const std::string text =
      GroupedHitsText(HitsInContext(), Lang::kEn, kTableWidth);
  std::vector<std::string> lines = Lines(text);
  for (const std::string& line : lines) {
    EXPECT_LE(DisplayWidth(line), kTableWidth) << line;
  }
  // One row (two lines: identifier, windows; two query ids), then the
  // footnote.
  ASSERT_EQ(lines.size(), 4u) << text;
  EXPECT_NE(lines[0].find("MATCHED"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("QUERIES"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("! telegram_username:@Smokva_Admin"),
            std::string::npos)
      << text;
  EXPECT_NE(lines[1].find("q-7f3c"), std::string::npos) << text;
  EXPECT_NE(lines[2].find("q-0001"), std::string::npos) << text;
  EXPECT_NE(lines[2].find("yours 2025-01-01..2025-06-30"), std::string::npos)
      << text;
  EXPECT_EQ(lines[3].rfind("! the two windows do not overlap", 0), 0u)
      << text;
  EXPECT_NE(lines[3].find("usernames and numbers get reused"),
            std::string::npos);
}

TEST(TextOutputTest, AllHitsOneRowEachWithTheQueryId) {
  const std::string text = HitsText(HitsInContext(), Lang::kEn);
  std::vector<std::string> lines = Lines(text);
  // Two hits of two lines each, the header and the footnote.
  ASSERT_EQ(lines.size(), 6u) << text;
  EXPECT_EQ(Column(lines[1], "q-7f3c"), Column(lines[0], "QUERY"));
  EXPECT_EQ(Column(lines[3], "q-0001"), Column(lines[0], "QUERY"));
  EXPECT_EQ(Column(lines[2],
                   "  yours 2025-01-01..2025-06-30, theirs "
                   "2021-01-01..2021-12-31"),
            Column(lines[0], "MATCHED"));
  // Hits that overlap (or are unknown) carry no footnote.
  v1::ListHitsResponse plain = SampleHits();
  EXPECT_EQ(HitsText(plain, Lang::kEn).find("! "), std::string::npos);
}

// A watch's hit keeps no value: its type and the peer's window only.
TEST(TextOutputTest, AWatchsHitShowsTheTypeOnly) {
  v1::ListHitsResponse r = SampleHits();
  v1::Hit* h = r.mutable_hits(0);
  h->set_watch_id("w-9");
  v1::HitMatch* m = h->add_matches();
  m->set_type(v1::IDENTIFIER_TYPE_PHONE);
  const std::string text = GroupedHitsText(r, Lang::kEn);
  EXPECT_NE(text.find("phone (a watch keeps no value)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("theirs unknown"), std::string::npos) << text;
  EXPECT_NE(text.find("watch w-9"), std::string::npos) << text;
}

// A miss says how old the peer's index copy was; after the summary, a
// warning names the peers whose copy was older than expected.
TEST(TextOutputTest, AMissSaysTheAgeOfThePeersIndex) {
  v1::PeerAnswer a = MissAnswer();
  a.set_index_version(7);
  a.set_index_synced_at_ms(kCreatedMs);
  a.set_index_age_ms(4 * 60 * 1000 + 10);
  EXPECT_EQ(PeerAnswerText(a, Lang::kEn),
            "HR  MISS      95 ms  index 4 min old\n");
  a.set_index_age_ms(3200);
  EXPECT_EQ(PeerAnswerText(a, Lang::kEn),
            "HR  MISS      95 ms  index 3 s old\n");
  v1::QuerySummary s = SampleSummary();
  EXPECT_EQ(StaleIndexText(s, Lang::kEn), "");
  s.set_stale_index_after_ms(6000);
  s.add_stale_index_members("HR");
  EXPECT_EQ(StaleIndexText(s, Lang::kEn),
            "warning: misses from index copies older than expected: HR "
            "(older than 6 s); a case registered since may be missing, ask "
            "again after the next sync ('cbx peers' shows it)\n");
}

// A withdrawn reference (spec/cooperation.md §2.4) says so in STATUS.
TEST(TextOutputTest, WithdrawnHitSaysSoWithItsDate) {
  v1::ListHitsResponse hits = SampleHits();
  hits.mutable_hits(0)->set_withdrawn_at_ms(1'767'225'600'000);  // 2026-01-01
  hits.mutable_hits(0)->set_withdrawal_reason(v1::WITHDRAWAL_REASON_CLOSED);
  std::vector<std::string> lines = Lines(HitsText(hits, Lang::kEn));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(Column(lines[1], "withdrawn 2026-01-01"),
            Column(lines[0], "STATUS"))
      << lines[0] << "\n"
      << lines[1];
  EXPECT_NE(HitsText(hits, Lang::kMk).find("повлечен 2026-01-01"),
            std::string::npos);
}

// By default the CLI's tables fit 100 columns (issue 14): the hits table,
// 250 columns wide in full, is cut in its widest columns; --wide (width 0)
// keeps it whole.
TEST(TextOutputTest, TablesFitOneHundredColumns) {
  const std::string full = HitsText(SampleHits(), Lang::kEn);
  size_t widest = 0;
  for (const std::string& line : Lines(full)) {
    widest = std::max(widest, DisplayWidth(line));
  }
  EXPECT_GT(widest, kTableWidth);
  const std::string fitted = HitsText(SampleHits(), Lang::kEn, kTableWidth);
  for (const std::string& line : Lines(fitted)) {
    EXPECT_LE(DisplayWidth(line), kTableWidth) << line;
  }
  EXPECT_EQ(fitted.rfind("RECEIVED", 0), 0u) << fitted;
  EXPECT_NE(fitted.find("MK-2026-0142"), std::string::npos) << fitted;
}

// A miss says which identifier types were asked, and suggests
// --both-types for a Telegram name asked as one type only (issue 14).
TEST(TextOutputTest, MissSaysWhichTypesWereAsked) {
  v1::QueryRequest request;
  v1::Identifier* id = request.add_identifiers();
  id->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id->set_value("smokva_grupa");
  v1::QuerySummary summary;
  summary.add_hit_members("RS");
  EXPECT_EQ(TypesAskedText(request, summary), "");
  summary.add_miss_members("BA");
  EXPECT_EQ(TypesAskedText(request, summary),
            "types asked: telegram_username\n"
            "note: telegram_username:smokva_grupa was asked as a "
            "telegram_username only; a Telegram name can be a username or a "
            "chat (group or channel): --both-types asks as both\n");
  v1::Identifier* twin = request.add_identifiers();
  *twin = *id;
  twin->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_CHAT);
  EXPECT_EQ(TypesAskedText(request, summary),
            "types asked: telegram_username, telegram_chat\n");
}

TEST(TextOutputTest, Inbox) {
  // Albanian headers since issue 14 (only the offence label before).
  EXPECT_EQ(InboxText(SampleInbox(), Lang::kSq),
            "KOHA                  ÇËSHTJA JONË  NGA  PROKURORIA      "
            "ÇËSHTJA E TYRE  VEPRA PENALE            BAZA LIGJORE\n"
            "2025-03-14T10:26:53Z  MK-2026-0142  AL   AL/SPAK-Tirana  "
            "AL-2026-77      Përndjekje kibernetike  MLA-Convention-1959 "
            "Art.1\n");
  EXPECT_EQ(InboxText(SampleInbox(), Lang::kEn).substr(0, 40),
            "AT                    OUR CASE      FROM");
  EXPECT_EQ(InboxText(v1::ListInboxResponse(), Lang::kEn),
            "no notifications\n");
}

TEST(TextOutputTest, Peers) {
  EXPECT_EQ(PeersText(SamplePeers()),
            "directory version 3, this node MK\n"
            "MEMBER  NAME                ENDPOINT             STATUS     "
            "OPRF EPOCH  INDEX VERSION  INDEX COUNT  LAST SYNC             "
            "LAST ERROR                       COSIGNED  COSIGNED AT           "
            "WITNESS ALERT\n"
            "RS      Republic of Serbia  cbx.rs.example:7443  active     "
            "2           1200           48211        2025-03-14T10:26:53Z  "
            "-                                9120      2025-03-14T10:26:53Z  "
            "-\n"
            "XK      Kosovo              cbx.xk.example:7443  suspended  "
            "1           0              0            -                     "
            "UNAVAILABLE: connection refused  310       2025-03-14T09:26:53Z  "
            "since 2025-03-14T10:26:53.000Z: XK's log shrank from 310 to 12 "
            "(1 checkpoint refused, the latest of size 12)\n");
  // A peer this node never cosigned for.
  v1::ListPeersResponse fresh;
  fresh.set_self("MK");
  fresh.add_peers()->set_member("BA");
  std::vector<std::string> lines = Lines(PeersText(fresh));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].substr(Column(lines[1], "COSIGNED ")),
            "-" + std::string(9, ' ') + "-" + std::string(12, ' ') + "-")
      << lines[2];
}

TEST(TextOutputTest, PeerIndexAlertIsALineAfterTheTable) {
  v1::ListPeersResponse peers = SamplePeers();
  peers.mutable_peers(0)->set_index_alert(
      "since 2025-03-14T10:26:53.000Z: RS's index version 9 has 2000000 "
      "tags, over the policy's cap of 1048576 (FAILED_PRECONDITION)\x1b[2J");
  std::string text = PeersText(peers);
  EXPECT_EQ(text.substr(0, PeersText(SamplePeers()).size()),
            PeersText(SamplePeers()));
  EXPECT_EQ(text.substr(PeersText(SamplePeers()).size()),
            "index alert RS: since 2025-03-14T10:26:53.000Z: RS's index "
            "version 9 has 2000000 tags, over the policy's cap of 1048576 "
            "(FAILED_PRECONDITION)?[2J\n");
}

TEST(TextOutputTest, CertificatesInUseAreATableAfterThePeers) {
  v1::ListPeersResponse peers = SamplePeers();
  v1::CertificateInUse own;
  own.set_serial("1A2B");
  own.set_not_after_ms(1767225600000);  // 2026-01-01
  own.set_sha256_fingerprint(
      "1A:99:53:70:7B:08:B3:B2:E9:87:69:B7:F3:50:FA:F3:74:10:10:A6:81:47:93:"
      "45:78:21:17:1F:5D:EE:88:E2");
  own.set_first_seen_ms(1741948013000);
  own.set_last_seen_ms(1741948013000);
  *peers.mutable_own_certificate() = own;
  v1::CertificateInUse rs = own;
  rs.set_serial("77");
  *peers.mutable_peers(0)->mutable_client_certificate() = rs;
  std::string text = PeersText(peers);
  EXPECT_EQ(text.substr(0, PeersText(SamplePeers()).size()),
            PeersText(SamplePeers()));
  EXPECT_EQ(text.substr(PeersText(SamplePeers()).size()),
            "certificates in use\n"
            "CERTIFICATE           SERIAL  NOT AFTER             "
            "SHA-256                     LAST SEEN\n"
            "this node             1A2B    2026-01-01T00:00:00Z  "
            "1A:99:53:70:7B:08:B3:B2...  2025-03-14T10:26:53Z\n"
            "RS calling this node  77      2026-01-01T00:00:00Z  "
            "1A:99:53:70:7B:08:B3:B2...  2025-03-14T10:26:53Z\n");
}

TEST(TextOutputTest, TextFromTheWireCannotDriveTheTerminal) {
  v1::PeerAnswer a = ErrorAnswer();
  a.set_error("bad\x1b[2Jpeer\nline");
  std::string text = PeerAnswerText(a, Lang::kEn);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("bad?[2Jpeer?line\n"), std::string::npos) << text;
  v1::CaseReference ref = SampleReference();
  ref.set_contact_point(
      "+381\xc2\x9b"
      "31m");
  a = HitAnswer();
  *a.mutable_references(0) = ref;
  text = PeerAnswerText(a, Lang::kEn);
  EXPECT_NE(text.find("+381?31m"), std::string::npos) << text;
  v1::ListPeersResponse peers = SamplePeers();
  peers.mutable_peers(1)->set_witness_alert("forked\x1b]0;log\x07");
  text = PeersText(peers);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("forked?]0;log?\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace cbx::client
