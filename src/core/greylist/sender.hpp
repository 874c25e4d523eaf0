#pragma once
// Envelope sender normalisation for the greylist triplet, so that the retry of one message
// maps to the same key even when the sender address changes per attempt or per message:
//   - lowercase;
//   - BATV "prvs=TAG=user@d" and "prvs=user=TAG@d" (either order), "msprvs1=TAG=user@d";
//   - SRS0/SRS1 forwarder rewrites unwrapped to the original sender
//     ("SRS0=HHH=TT=orig.example=alice@fwd.example" -> "alice@orig.example");
//   - "+extension" stripped from the local part;
//   - VERP-like digit runs (a run of digits between non-word characters) folded to '#'.
// The null sender (bounces) stays empty; callers key it as "<>".
#include <string>
#include <string_view>

namespace gf::greylist {

std::string normalize_sender(std::string_view sender);

// The domain part of an (already normalised) address, or "" when there is none.
std::string_view address_domain(std::string_view address);

}  // namespace gf::greylist
