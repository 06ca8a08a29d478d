// Fuzz target: bytes -> a peer's SyncIndex stream (a sequence of
// cbx.v1.IndexPart: the signed manifest, then chunks of packed tags) ->
// the pure pieces of index acceptance (spec/index-sync.md): the manifest
// message inside the envelope, UnpackTags/PackTags, IndexDigest and the
// count-and-digest rule, and the membership set the querier reads.
//
// The acceptance rules themselves (delta against the held copy, caps,
// alerts) live inside node/index_sync.cc with the node's context, so they
// are not driven here; this target holds the parsing they build on.
//
// Input framing: records of a 2-byte big-endian length and that many bytes,
// each a serialized IndexPart (the first one should be the manifest).
// Invariants (abort = finding):
//   - UnpackTags accepts exactly the multiples of 8 bytes, one tag per 8
//     bytes, and PackTags gives the same bytes back;
//   - IndexDigest of the sorted, de-duplicated tags is SHA-256 of their
//     packed form, and does not depend on how the tags were chunked;
//   - the manifest's count and digest accept the tags iff they match them
//     (and a manifest carrying the right count and digest is accepted);
//   - the membership set holds exactly the accepted tags.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cbx/v1/message.pb.h"
#include "cbx/v1/peer.pb.h"
#include "core/crypto/sha256.h"
#include "google/protobuf/stubs/logging.h"
#include "node/tag_index.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.

void Check(bool ok) {
  if (!ok) std::abort();
}

// The parts of the stream, in order; stops at the first unparsable record.
std::vector<v1::IndexPart> SplitParts(std::string_view in) {
  std::vector<v1::IndexPart> parts;
  while (in.size() >= 2) {
    const size_t n =
        (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    const std::string_view record = in.substr(0, n);
    in.remove_prefix(record.size());
    v1::IndexPart part;
    if (!part.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
      break;
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

// UnpackTags on `packed`, with its invariants; appends what it unpacked.
bool Unpack(const std::string& packed, std::vector<node::Tag>& out) {
  auto tags = node::UnpackTags(packed);
  Check(tags.ok() == (packed.size() % 8 == 0));
  if (!tags.ok()) {
    Check(tags.status().code() == absl::StatusCode::kInvalidArgument);
    return false;
  }
  Check(tags->size() == packed.size() / 8);
  Check(node::PackTags(*tags, 0, tags->size()) == packed);
  out.insert(out.end(), tags->begin(), tags->end());
  return true;
}

// The full-index rule: the sorted, unique tags match count and digest.
bool Matches(const v1::IndexManifest& m, const std::vector<node::Tag>& tags) {
  return tags.size() == m.count() && node::IndexDigest(tags) == m.digest();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  const std::vector<v1::IndexPart> parts =
      SplitParts(std::string_view(reinterpret_cast<const char*>(data), size));
  if (parts.empty()) return 0;

  v1::IndexManifest manifest;
  if (parts[0].has_manifest()) {
    v1::Message msg;
    if (msg.ParseFromString(parts[0].manifest().body()) &&
        msg.has_index_manifest()) {
      manifest = msg.index_manifest();
    }
  }
  std::vector<node::Tag> added, removed;
  bool ok = true;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (!parts[i].has_chunk()) continue;  // a second manifest: refused
    ok &= Unpack(parts[i].chunk().added_tags(), added);
    ok &= Unpack(parts[i].chunk().removed_tags(), removed);
  }
  if (!ok) return 0;

  std::vector<node::Tag> tags = added;
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  const Bytes digest = node::IndexDigest(tags);
  Check(digest.size() == crypto::kSha256Size);
  Check(digest == crypto::Sha256(node::PackTags(tags, 0, tags.size())));
  // Chunking does not matter: one chunk of every tag gives the same digest.
  std::vector<node::Tag> one_chunk;
  Check(Unpack(node::PackTags(added, 0, added.size()), one_chunk));
  std::sort(one_chunk.begin(), one_chunk.end());
  one_chunk.erase(std::unique(one_chunk.begin(), one_chunk.end()),
                  one_chunk.end());
  Check(one_chunk == tags);

  // The manifest as sent, then one that tells the truth about the tags.
  const bool accepted = Matches(manifest, tags);
  Check(accepted ==
        (manifest.count() == tags.size() && manifest.digest() == digest));
  v1::IndexManifest honest = manifest;
  honest.set_count(tags.size());
  honest.set_digest(digest);
  Check(Matches(honest, tags));

  // The membership set the querier reads holds exactly these tags.
  node::PeerIndexSet set;
  node::PeerIndex index;
  index.member = "MK";
  index.version = honest.version();
  index.tags = tags;
  set.Put(std::move(index));
  Check(set.Describe("MK").held && set.Describe("MK").count == tags.size());
  for (node::Tag t : added) Check(set.Contains("MK", t));
  for (node::Tag t : removed) {
    Check(set.Contains("MK", t) ==
          std::binary_search(tags.begin(), tags.end(), t));
  }
  Check(!set.Contains("RS", tags.empty() ? 0 : tags[0]));
  return 0;
}
