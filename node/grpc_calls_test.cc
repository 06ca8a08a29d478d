// Received<T>'s deserializer and the early refusals (node/grpc_calls.h).
// The methods themselves are tested through a node: tests/integration
// (federation_test's calls without a request and garbage bodies).
#include "node/grpc_calls.h"

#include <string>

#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/peer.pb.h"
#include "gtest/gtest.h"

namespace cbx::node {
namespace {

using grpc_calls::Unparsed;

grpc::ByteBuffer Buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// No message at all (the stream was reset, or half-closed with none):
// the call fails before any handler, with a clear status.
TEST(ReceivedTest, NoMessageFailsTheCallBeforeTheHandler) {
  grpc::ByteBuffer none;
  ASSERT_FALSE(none.Valid());
  Received<v1::Envelope> received;
  const grpc::Status status =
      grpc::SerializationTraits<Received<v1::Envelope>>::Deserialize(&none,
                                                                     &received);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "the call ended before its request message");
}

// A body that does not parse reaches the method, marked as such; one that
// does, parsed. An empty body is a message (every field at its default).
TEST(ReceivedTest, ABodyReachesTheMethodMarkedParsedOrNot) {
  const std::string garbage = {0x08, 0x01, static_cast<char>(0xff)};
  v1::GetCheckpointRequest request;
  request.set_since_size(7);
  for (const auto& [bytes, parsed] :
       {std::pair<std::string, bool>{garbage, false},
        {request.SerializeAsString(), true},
        {"", true}}) {
    grpc::ByteBuffer buffer = Buffer(bytes);
    Received<v1::GetCheckpointRequest> received;
    EXPECT_TRUE(
        grpc::SerializationTraits<
            Received<v1::GetCheckpointRequest>>::Deserialize(&buffer, &received)
            .ok());
    EXPECT_EQ(received.parsed, parsed);
  }
  grpc::ByteBuffer buffer = Buffer(request.SerializeAsString());
  Received<v1::GetCheckpointRequest> received;
  ASSERT_TRUE(
      grpc::SerializationTraits<
          Received<v1::GetCheckpointRequest>>::Deserialize(&buffer, &received)
          .ok());
  EXPECT_EQ(received.message.since_size(), 7u);
}

// A handler taking the message gets only parsed ones (the others are
// refused naming the message); one taking the Received refuses them
// itself.
TEST(ReceivedTest, AnUnparsedBodyIsRefusedUnlessTheHandlerTakesItAsItCame) {
  Received<v1::GetCheckpointRequest> bad;
  const auto refused = Unparsed<v1::GetCheckpointRequest>(bad);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused->error_message(),
            "request is not a cbx.v1.GetCheckpointRequest");
  EXPECT_FALSE(
      Unparsed<Received<v1::Envelope>>(Received<v1::Envelope>{}).has_value());
  Received<v1::GetCheckpointRequest> good;
  good.parsed = true;
  EXPECT_FALSE(Unparsed<v1::GetCheckpointRequest>(good).has_value());
}

}  // namespace
}  // namespace cbx::node
