// serve_asset: the dashboard's static files by path, with ETag revalidation and safe names.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "core/web/static_assets.hpp"

namespace gf::web {
namespace {

constexpr std::array<Asset, 2> kAssets{{
    {"index.html", "text/html; charset=utf-8", "\"abc\"", "<!doctype html>"},
    {"js/app.js", "text/javascript; charset=utf-8", "\"def\"", "export {};"},
}};

std::string header(const AssetReply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      return v;
    }
  }
  return "";
}

TEST(WebAssets, PrefixSlashIsIndexWithItsTypeEtagAndPolicy) {
  const AssetReply r = serve_asset(kAssets, "/ui", "GET", "/ui/", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, "<!doctype html>");
  EXPECT_EQ(header(r, "ETag"), "\"abc\"");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  EXPECT_NE(header(r, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
}

TEST(WebAssets, NestedFileByPath) {
  const AssetReply r = serve_asset(kAssets, "/ui", "GET", "/ui/js/app.js", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(r.body, "export {};");
}

TEST(WebAssets, BarePrefixRedirectsToTheSlash) {
  const AssetReply r = serve_asset(kAssets, "/ui", "GET", "/ui", "");
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(header(r, "Location"), "/ui/");
}

TEST(WebAssets, MatchingIfNoneMatchIs304WithoutBody) {
  for (std::string_view inm : {"\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "*"}) {
    const AssetReply r = serve_asset(kAssets, "/ui", "GET", "/ui/index.html", inm);
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_TRUE(r.body.empty()) << inm;
    EXPECT_EQ(header(r, "ETag"), "\"abc\"");
  }
  EXPECT_EQ(serve_asset(kAssets, "/ui", "GET", "/ui/index.html", "\"old\"").status, 200);
}

TEST(WebAssets, HeadHasNoBodyOtherMethodsAre405) {
  const AssetReply head = serve_asset(kAssets, "/ui", "HEAD", "/ui/js/app.js", "");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  const AssetReply post = serve_asset(kAssets, "/ui", "POST", "/ui/js/app.js", "");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(header(post, "Allow"), "GET, HEAD");
}

TEST(WebAssets, UnknownAndTraversingNamesAre404) {
  for (std::string_view p : {"/ui/missing.js", "/ui/../etc/passwd", "/ui/js/../index.html",
                             "/ui//index.html", "/ui/js\\app.js", "/ui/js"}) {
    EXPECT_EQ(serve_asset(kAssets, "/ui", "GET", p, "").status, 404) << p;
  }
}

}  // namespace
}  // namespace gf::web
