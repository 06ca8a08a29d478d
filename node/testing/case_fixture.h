// What a unit test of the node's domain modules needs around them, in
// process: MemoryStorage, a FakeClock, a recording audit sink and the trail
// over it, and the test federation's MK OPRF key (epoch 1). Plus builders
// of office requests.
#ifndef CBX_NODE_TESTING_CASE_FIXTURE_H_
#define CBX_NODE_TESTING_CASE_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "cbx/v1/office.pb.h"
#include "core/crypto/voprf.h"
#include "core/directory/testing/test_federation.h"
#include "core/identifiers/identifiers.h"
#include "core/util/clock.h"
#include "gtest/gtest.h"
#include "node/audit_trail.h"
#include "node/storage/memory_storage.h"
#include "node/testing/test_audit_sink.h"

namespace cbx::node::testing {

inline constexpr char kOffice[] = "MK/PPO-Skopje";

inline v1::Identifier Username(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id.set_value(value);
  return id;
}

// A valid AddCase request's case with the given usernames.
inline v1::Case NewCase(const std::string& number,
                        const std::vector<std::string>& usernames) {
  v1::Case c;
  c.set_case_number(number);
  for (const std::string& u : usernames) *c.add_identifiers() = Username(u);
  c.add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c.set_role(v1::PERPETRATOR_ROLE_POSTER);
  c.set_contact_point("+389 2 000 000");
  return c;
}

class DomainFixture : public ::testing::Test {
 protected:
  DomainFixture()
      : oprf_key_(*crypto::OprfServerKey::FromPrivateBytes(
            directory::testing::TestOprfScalar("MK", 1))),
        trail_(&sink_) {}

  // The y and tag the node stores for a username.
  Bytes YOf(const std::string& username) const {
    auto normalized =
        identifiers::Normalize(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, username);
    EXPECT_TRUE(normalized.ok()) << normalized.status();
    auto y = oprf_key_.Evaluate(identifiers::OprfInput(
        v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, *normalized));
    EXPECT_TRUE(y.ok()) << y.status();
    return *y;
  }
  Tag TagOf(const std::string& username) const {
    return identifiers::TagOf(YOf(username));
  }
  std::vector<Tag> OwnTags() {
    auto tags = storage_.OwnIndexTags();
    EXPECT_TRUE(tags.ok()) << tags.status();
    return tags.ok() ? *tags : std::vector<Tag>{};
  }
  uint64_t OwnVersion() {
    auto version = storage_.OwnIndexVersion();
    EXPECT_TRUE(version.ok()) << version.status();
    return version.ok() ? *version : ~uint64_t{0};
  }

  MemoryStorage storage_;
  FakeClock clock_{directory::testing::kNowMs};
  crypto::OprfServerKey oprf_key_;
  TestAuditSink sink_;
  AuditTrail trail_;
};

}  // namespace cbx::node::testing

#endif  // CBX_NODE_TESTING_CASE_FIXTURE_H_
