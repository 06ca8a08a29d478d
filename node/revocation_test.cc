// CRLs from the directory (spec/keys.md §5.1): used only with the listing
// member's CA, merged with tls.crl_dir's by thisUpdate, dropped with the
// directory's entry.
#include "node/revocation.h"

#include <ctime>

#include "cbx/v1/directory.pb.h"
#include "core/crypto/testing/test_pki.h"
#include "gtest/gtest.h"

namespace cbx::node {
namespace {

using crypto::testing::IssueTestCertificate;
using crypto::testing::MakeTestCa;
using crypto::testing::MakeTestCrl;
using crypto::testing::TestKeyPair;

constexpr int64_t kDay = 86'400;

class DirectoryCrlTest : public ::testing::Test {
 protected:
  const int64_t now_ = static_cast<int64_t>(std::time(nullptr));
  TestKeyPair mk_ca_ = MakeTestCa("cbx test CA MK", now_ - kDay, now_ + kDay);
  TestKeyPair rs_ca_ = MakeTestCa("cbx test CA RS", now_ - kDay, now_ + kDay);
  crypto::CertificateSummary mk_10_ = Summary(mk_ca_, 0x10, "MK");
  crypto::CertificateSummary mk_11_ = Summary(mk_ca_, 0x11, "MK");
  crypto::CertificateSummary rs_20_ = Summary(rs_ca_, 0x20, "RS");

  static crypto::CertificateSummary Summary(const TestKeyPair& ca,
                                            uint64_t serial,
                                            const std::string& member) {
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    return *crypto::SummarizeCertificate(
        IssueTestCertificate(ca, serial, "cbx-node",
                             "spiffe://cbx/member/" + member, now - kDay,
                             now + kDay)
            .certificate_pem);
  }
  // A directory whose `member` (with `ca` as its CA) lists `crls`.
  static std::vector<DirectoryCrl> Listing(
      const std::string& member, const TestKeyPair& ca,
      const std::vector<std::string>& crls) {
    v1::Member m;
    m.set_code(member);
    m.add_ca_certificates_pem(ca.certificate_pem);
    for (const std::string& pem : crls) m.add_crls_pem(pem);
    std::vector<v1::Member> members = {m};
    return DirectoryCrls(members);
  }
  RevocationSet Load(const std::map<std::string, std::string>& files,
                     const std::vector<DirectoryCrl>& from_directory,
                     const RevocationSet& previous = {},
                     std::vector<RevocationEvent>* events = nullptr) {
    return LoadRevocations(files,
                           {mk_ca_.certificate_pem, rs_ca_.certificate_pem},
                           from_directory, previous, now_, events);
  }
};

TEST_F(DirectoryCrlTest, CrlOfTheListingMembersCaRevokes) {
  RevocationSet set =
      Load({}, Listing("MK", mk_ca_, {MakeTestCrl(mk_ca_, {0x10}, now_, 0)}));
  EXPECT_EQ(set.Check(mk_10_).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(set.Check(mk_11_).ok());
  EXPECT_TRUE(set.Check(rs_20_).ok());
  ASSERT_EQ(set.entries().size(), 1u);
  EXPECT_EQ(set.entries().begin()->second.file, "directory:MK#0");
}

TEST_F(DirectoryCrlTest, MemberCannotRevokeAnotherMembersCertificates) {
  // RS lists a CRL of MK's CA: RS's own CA does not verify it.
  std::vector<RevocationEvent> events;
  RevocationSet set =
      Load({}, Listing("RS", rs_ca_, {MakeTestCrl(mk_ca_, {0x10}, now_, 0)}),
           {}, &events);
  EXPECT_TRUE(set.empty());
  EXPECT_TRUE(set.Check(mk_10_).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "crl-refused");
  EXPECT_EQ(events[0].file, "directory:RS#0");
}

TEST_F(DirectoryCrlTest, NewestThisUpdateWinsBetweenFolderAndDirectory) {
  const std::string older = MakeTestCrl(mk_ca_, {0x10}, now_ - 100, 0);
  const std::string newer = MakeTestCrl(mk_ca_, {0x11}, now_, 0);
  // The directory's is newer.
  RevocationSet a = Load({{"mk.crl", older}}, Listing("MK", mk_ca_, {newer}));
  EXPECT_TRUE(a.Check(mk_10_).ok());
  EXPECT_EQ(a.Check(mk_11_).code(), absl::StatusCode::kUnauthenticated);
  // The folder's is newer.
  RevocationSet b = Load({{"mk.crl", newer}}, Listing("MK", mk_ca_, {older}));
  EXPECT_TRUE(b.Check(mk_10_).ok());
  EXPECT_EQ(b.Check(mk_11_).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(b.entries().begin()->second.file, "mk.crl");
}

TEST_F(DirectoryCrlTest, CrlDroppedFromTheDirectoryIsDropped) {
  RevocationSet first =
      Load({}, Listing("MK", mk_ca_, {MakeTestCrl(mk_ca_, {0x10}, now_, 0)}));
  ASSERT_FALSE(first.Check(mk_10_).ok());
  std::vector<RevocationEvent> events;
  RevocationSet next = Load({}, Listing("MK", mk_ca_, {}), first, &events);
  EXPECT_TRUE(next.Check(mk_10_).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "crl-removed");
}

TEST_F(DirectoryCrlTest, OlderDirectoryCrlDoesNotReplaceTheOneInUse) {
  RevocationSet first =
      Load({}, Listing("MK", mk_ca_, {MakeTestCrl(mk_ca_, {0x10}, now_, 0)}));
  std::vector<RevocationEvent> events;
  RevocationSet next =
      Load({}, Listing("MK", mk_ca_, {MakeTestCrl(mk_ca_, {}, now_ - 100, 0)}),
           first, &events);
  EXPECT_EQ(next.Check(mk_10_).code(), absl::StatusCode::kUnauthenticated);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].event, "crl-refused");
}

}  // namespace
}  // namespace cbx::node
