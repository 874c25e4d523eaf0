#pragma once
// Two families of messages for the mail scanner's tests: the same lottery spam and the same
// seminar note, numbered so that each call is a distinct message.
#include <string>

namespace gf::spamd::test {

inline std::string spam_mail(int i) {
  return "From: Winner <promo" + std::to_string(i) +
         "@lottery-prizes.example>\nSubject: You WON $1,000,000 claim now\n"
         "Content-Type: text/html\n\n<html><p>Claim your prize money now! Click "
         "<a href=\"http://claim.prize-site.example/win?id=" +
         std::to_string(i) + "\">here</a> cheap pills viagra casino bonus</p></html>\n";
}

inline std::string ham_mail(int i) {
  return "From: Carol <carol@university.example.edu>\nSubject: Meeting notes " + std::to_string(i) +
         "\nMessage-ID: <" + std::to_string(i) +
         "@university.example.edu>\n\nHi team, attached are the notes from "
         "the seminar on compilers. Let's discuss the parser design on Thursday.\n";
}

}  // namespace gf::spamd::test
