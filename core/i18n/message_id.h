// A message of the catalog, as code names it: the generated
// core/i18n/message_ids.h holds one constant per message of the English
// file (i18n/en.txt), `msg::kCaseToken` for `case_token`, so that a message
// code uses but English lacks is a compile error, not a blank on a page.
#ifndef CBX_CORE_I18N_MESSAGE_ID_H_
#define CBX_CORE_I18N_MESSAGE_ID_H_

#include <cstdint>

namespace cbx::i18n {

struct MessageId {
  uint16_t index;  // the message's place in the English file
};

}  // namespace cbx::i18n

#endif  // CBX_CORE_I18N_MESSAGE_ID_H_
