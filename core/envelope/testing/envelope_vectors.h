// The spec vectors of spec/envelope.md (spec/vectors/envelope.json) and the
// fuzz seed corpora, built from the test federation
// (core/directory/testing/test_federation.h). Deterministic: fixed seeds,
// message ids and times.
#ifndef CBX_CORE_ENVELOPE_TESTING_ENVELOPE_VECTORS_H_
#define CBX_CORE_ENVELOPE_TESTING_ENVELOPE_VECTORS_H_

#include <string>
#include <utility>
#include <vector>

#include "cbx/v1/message.pb.h"
#include "core/util/bytes.h"
#include "nlohmann/json.hpp"

namespace cbx::envelope::testing {

// The receiver of every vector (unless a case says otherwise).
inline constexpr char kReceiver[] = "RS";

// Message id number `n` of the vectors: the first 16 bytes of
// SHA-256("cbx test message id" || 0x00 || decimal n).
Bytes TestMessageId(int n);

// A valid evaluate_request from MK to RS, issued 1 s before the vectors'
// clock with a 120 s lifetime, carrying message id `n`.
v1::Message TestEvaluateRequest(int n);

nlohmann::json MakeEnvelopeVectors();

// (file name, serialized Envelope) seeds for the envelope fuzzer: every
// envelope of the vectors and a few mutations of the valid one.
std::vector<std::pair<std::string, Bytes>> EnvelopeCorpusSeeds();

// The accepted-kind names of the vectors ("evaluate_request", ...).
v1::Message::KindCase KindFromName(const std::string& name);

}  // namespace cbx::envelope::testing

#endif  // CBX_CORE_ENVELOPE_TESTING_ENVELOPE_VECTORS_H_
