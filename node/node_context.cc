#include "node/node_context.h"

#include <utility>

namespace cbx::node {

uint32_t NodeContext::OprfEpoch() const {
  const v1::Member* me = directory->Current()->FindMember(self());
  return me == nullptr ? 0 : me->oprf_key().epoch();
}

int64_t NodeContext::MessageLifetimeMs() const {
  return static_cast<int64_t>(
             directory->Current()->policy().max_message_lifetime_s()) *
         1000;
}

v1::Header NodeContext::NewHeader(const std::string& to,
                                  const std::string& office,
                                  const std::string& person) const {
  v1::Header header =
      envelope::MakeHeader(self(), {to}, *clock, MessageLifetimeMs());
  header.set_office(office);
  header.set_user(person);
  return header;
}

void NodeContext::AddDirectoryListener(DirectoryListener listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  directory_listeners_.push_back(std::move(listener));
}

void NodeContext::DirectoryAdopted(const directory::Directory& before,
                                   const directory::Directory& after) const {
  if (before.version() == after.version()) return;
  std::vector<DirectoryListener> listeners;
  {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    listeners = directory_listeners_;
  }
  for (const DirectoryListener& listener : listeners) listener(before, after);
}

void NodeContext::AddPeerIndexListener(PeerIndexListener listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  peer_index_listeners_.push_back(std::move(listener));
}

void NodeContext::PeerIndexSynced(const PeerIndexSync& sync) const {
  if (sync.copy == nullptr) return;
  std::vector<PeerIndexListener> listeners;
  {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    listeners = peer_index_listeners_;
  }
  for (const PeerIndexListener& listener : listeners) listener(sync);
}

}  // namespace cbx::node
