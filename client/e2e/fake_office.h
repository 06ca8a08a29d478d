// An in-process fake of the node's Office service for the CLI's end-to-end
// test. Its behaviour is canned but follows spec/office-api.md: it keeps the
// cases it is given (normalizing identifiers with core/identifiers), refuses
// duplicates and unknown cases, checks the caller's role from the client
// certificate's URI SAN, and answers a query from four scripted peers, each
// after its own delay, streaming the answers in arrival order. ListPeers
// shows BA's log refused by the node as a witness.
//
// Thread-safe: gRPC calls the handlers from its own threads.
#ifndef CBX_CLIENT_E2E_FAKE_OFFICE_H_
#define CBX_CLIENT_E2E_FAKE_OFFICE_H_

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "cbx/v1/office.grpc.pb.h"

namespace cbx::client::testing {

class FakeOffice final : public v1::Office::Service {
 public:
  // A scripted peer: answers after `delay`; `error` non-empty makes it fail
  // with DEADLINE_EXCEEDED and that message; otherwise it holds `holds`
  // (normalized identifiers, per type) in one case and answers HIT when a
  // queried identifier is among them.
  struct ScriptedPeer {
    std::string member;
    std::chrono::milliseconds delay;
    std::string error;
    std::multimap<v1::IdentifierType, std::string> holds;
  };

  FakeOffice();

  grpc::Status AddCase(grpc::ServerContext* ctx,
                       const v1::AddCaseRequest* request,
                       v1::Case* response) override;
  grpc::Status AmendCase(grpc::ServerContext* ctx,
                         const v1::AmendCaseRequest* request,
                         v1::Case* response) override;
  grpc::Status CloseCase(grpc::ServerContext* ctx,
                         const v1::CloseCaseRequest* request,
                         v1::Case* response) override;
  grpc::Status ListCases(grpc::ServerContext* ctx,
                         const v1::ListCasesRequest* request,
                         v1::ListCasesResponse* response) override;
  grpc::Status Query(grpc::ServerContext* ctx, const v1::QueryRequest* request,
                     grpc::ServerWriter<v1::QueryEvent>* writer) override;
  grpc::Status ListHits(grpc::ServerContext* ctx,
                        const v1::ListHitsRequest* request,
                        v1::ListHitsResponse* response) override;
  grpc::Status ListInbox(grpc::ServerContext* ctx,
                         const v1::ListInboxRequest* request,
                         v1::ListInboxResponse* response) override;
  grpc::Status ListPeers(grpc::ServerContext* ctx,
                         const v1::ListPeersRequest* request,
                         v1::ListPeersResponse* response) override;

  // Every RPC that reached a handler, authorized or not.
  int calls() const { return calls_.load(); }
  // Copies the stored case into *out; false when there is none.
  bool GetCase(const std::string& number, v1::Case* out) const;
  // The URI SAN of the last caller.
  std::string last_caller() const;
  // How many identifiers each Query that passed its checks asked, in the
  // order they arrived.
  std::vector<int> query_sizes() const;

 private:
  // The caller's office ("MK/PPO-Skopje") and role from its certificate;
  // PERMISSION_DENIED unless `role` is among `allowed`, UNAUTHENTICATED
  // without a recognizable office identity.
  grpc::Status Authorize(grpc::ServerContext* ctx,
                         const std::vector<std::string>& allowed,
                         std::string* office);
  grpc::Status NormalizeInto(
      const google::protobuf::RepeatedPtrField<v1::Identifier>& in,
      google::protobuf::RepeatedPtrField<v1::Identifier>* out);

  std::atomic<int> calls_{0};
  const std::vector<ScriptedPeer> peers_;
  mutable std::mutex mu_;
  std::map<std::string, v1::Case> cases_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Hit> hits_ ABSL_GUARDED_BY(mu_);
  std::string last_caller_ ABSL_GUARDED_BY(mu_);
  int next_token_ ABSL_GUARDED_BY(mu_) = 1;
  int next_query_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<int> query_sizes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::client::testing

#endif  // CBX_CLIENT_E2E_FAKE_OFFICE_H_
