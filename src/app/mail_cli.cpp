#include "app/mail_cli.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>

#include "app/spamd_settings.hpp"
#include "core/mime/mbox.hpp"
#include "core/spamd/bulk.hpp"
#include "io/flux/rpz_file.hpp"
#include "io/mail/model_file.hpp"
#include "io/sys/file.hpp"
#include "io/sys/worker_pool.hpp"

namespace gf::app {

namespace fs = std::filesystem;

namespace {

Result<void> read_file_messages(const std::string& path, std::vector<MailItem>& out) {
  auto data = io::read_file(path);
  if (!data) {
    return tl::unexpected(data.error());
  }
  auto box = mime::split_mbox(*data);
  if (!box) {
    return fail(box.error().code, fmt::format("{}: {}", path, box.error().message));
  }
  if (!box->is_mbox) {
    out.push_back({path, std::move(*data)});
    return {};
  }
  for (std::size_t k = 0; k < box->parts.size(); ++k) {
    out.push_back({fmt::format("{}#{}", path, k + 1), mime::unescape_mboxrd(box->parts[k].raw)});
  }
  return {};
}

Result<void> read_paths(const std::vector<std::string>& paths, std::vector<MailItem>& items) {
  for (const auto& p : paths) {
    auto m = read_mail(p);
    if (!m) {
      return tl::unexpected(m.error());
    }
    std::move(m->begin(), m->end(), std::back_inserter(items));
  }
  return {};
}

std::vector<std::string_view> raws_of(const std::vector<MailItem>& items) {
  std::vector<std::string_view> out;
  out.reserve(items.size());
  for (const MailItem& m : items) {
    out.push_back(m.raw);
  }
  return out;
}

}  // namespace

Result<std::vector<MailItem>> read_mail(const std::string& path) {
  std::vector<MailItem> out;
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    out.push_back({path, ss.str()});
    return out;
  }
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    if (auto ok = read_file_messages(path, out); !ok) {
      return tl::unexpected(ok.error());
    }
    return out;
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(path, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (auto ok = read_file_messages(f.string(), out); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return out;
}

int learn_command(const Values& v, const std::vector<std::string>& spam,
                  const std::vector<std::string>& ham) {
  auto fail_with = [](const Error& e) {
    std::fprintf(stderr, "greyflux: %s\n", e.message.c_str());
    return 2;
  };
  if (auto ok = validate_spamd(v); !ok) {
    return fail_with(ok.error());
  }
  const std::string path = v.str("spamd.model");
  auto scanner = io::load_mail_model(path, spamd_scanner_options(v));
  if (!scanner) {
    return fail_with(scanner.error());
  }
  std::vector<MailItem> s;
  std::vector<MailItem> h;
  if (auto ok = read_paths(spam, s); !ok) {
    return fail_with(ok.error());
  }
  if (auto ok = read_paths(ham, h); !ok) {
    return fail_with(ok.error());
  }
  const auto start = std::chrono::steady_clock::now();
  const std::size_t learned = spamd::learn_messages(
      *scanner, spamd::interleave(raws_of(s), raws_of(h)), io::parallel_for_each);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (auto ok = io::save_mail_model(path, scanner->serialize()); !ok) {
    return fail_with(ok.error());
  }
  const std::size_t total = s.size() + h.size();
  // Messages the model already had as that class (a second run over the same folder, copies)
  // are read but not learned again: say so, or "learned 1000" would hide that nothing changed.
  std::printf(
      "read %zu spam and %zu ham, learned %zu (%zu already known as that class) in %.2f s "
      "(%.0f msg/s); model now has %llu spam, %llu ham: %s\n",
      s.size(), h.size(), learned, total - learned, secs,
      secs > 0 ? static_cast<double>(total) / secs : 0.0,
      static_cast<unsigned long long>(scanner->spam_learned()),
      static_cast<unsigned long long>(scanner->ham_learned()), path.c_str());
  return 0;
}

int classify_command(const Values& v, const std::vector<std::string>& files, bool explain) {
  auto fail_with = [](const Error& e) {
    std::fprintf(stderr, "greyflux: %s\n", e.message.c_str());
    return 3;
  };
  if (auto ok = validate_spamd(v); !ok) {
    return fail_with(ok.error());
  }
  auto scanner = io::load_mail_model(v.str("spamd.model"), spamd_scanner_options(v));
  if (!scanner) {
    return fail_with(scanner.error());
  }
  auto flux = io::load_flux_rpz(v.str("spamd.flux_rpz"));
  if (!flux) {
    return fail_with(flux.error());
  }
  // Tried as a new user would, before any `greyflux learn`: every message came out H with
  // p=-1.0000 and nothing said why.
  if (const std::uint64_t need = scanner->options().min_learned;
      scanner->spam_learned() < need || scanner->ham_learned() < need) {
    std::fprintf(stderr,
                 "greyflux: the mail model (%s) has learned %llu spam and %llu ham; it scores "
                 "from %llu of each (greyflux learn), until then the rules alone decide "
                 "(p=-1)\n",
                 v.str("spamd.model").c_str(),
                 static_cast<unsigned long long>(scanner->spam_learned()),
                 static_cast<unsigned long long>(scanner->ham_learned()),
                 static_cast<unsigned long long>(need));
  }
  int rc = 0;
  std::vector<MailItem> items;
  for (const auto& f : files) {
    auto msgs = read_mail(f);
    if (!msgs) {
      rc = fail_with(msgs.error());
      continue;
    }
    std::move(msgs->begin(), msgs->end(), std::back_inserter(items));
  }
  // Scanning is read-only: every core takes messages; output stays in input order.
  const std::vector<spamd::Evaluation> results =
      spamd::classify_messages(*scanner, raws_of(items), spamd_action_policy(v), explain,
                               flux->get(), io::parallel_for_each);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const spamd::Analysis& a = results[i].analysis;
    std::printf("%s %s score=%.1f/%.1f p=%.4f tests=%s\n", items[i].name.c_str(),
                a.is_spam ? "S" : "H", a.score, a.required, a.p_spam,
                spamd::symbol_list(a).c_str());
    if (explain) {
      std::fputs(spamd::format_report(a, "").c_str(), stdout);
    }
  }
  if (rc != 0) {
    return rc;
  }
  if (results.size() == 1) {
    return results[0].is_spam() ? 0 : 1;
  }
  return 0;
}

}  // namespace gf::app
