#pragma once
// `greyflux learn` and `greyflux classify`: the mail model trained from, and run over, files,
// directories and mbox files, outside the daemon.
//
// Flow: read_mail() turns each argument into named messages (a file: its path; a directory:
// every regular file below it, sorted; an mbox: "PATH#k" per message, via mime::split_mbox)
// -> the model from spamd.model (io::load_mail_model) -> spamd::learn_messages /
// spamd::classify_messages (core/spamd/bulk.hpp) on every core through io::parallel_for_each
// -> learn: io::save_mail_model; classify: one line per message in input order.
//
// Errors: a file that cannot be read is one line on stderr; learn stops (exit 2), classify
// goes on with the others and exits 3.
#include <string>
#include <vector>

#include "app/settings.hpp"
#include "core/common/result.hpp"

namespace gf::app {

struct MailItem {
  std::string name;  // the file's path, "PATH#k" for message k (from 1) of an mbox, "-" stdin
  std::string raw;
};

// Reads messages from a file, a directory (recursively, sorted) or an mbox ("From " lines);
// "-" is standard input (one message).
[[nodiscard]] Result<std::vector<MailItem>> read_mail(const std::string& path);

// `greyflux learn --spam PATH... --ham PATH...`.
int learn_command(const Values& v, const std::vector<std::string>& spam,
                  const std::vector<std::string>& ham);
// `greyflux classify FILE...` ("-" = standard input): one line per message; for one message
// the exit code says spam (0) or ham (1), as bogofilter's does; 3 on errors.
int classify_command(const Values& v, const std::vector<std::string>& files, bool explain);

}  // namespace gf::app
