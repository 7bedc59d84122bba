// The UI's static files (ui/static/: scripts, style sheets), compiled into the binary at build
// time by ui/embed_assets.cmake so `strato` serves them from anywhere without looking for
// files. Each has a content hash that pages put into the asset's address (cache busting).
//
// Immutable data with static storage: read it from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace strato::http {

struct UiAsset {
  std::string_view name;          // "passkeys.js": the file name under ui/static/
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;          // the file's bytes
  std::string_view sha256;        // hex SHA-256 of body
};

// Every embedded asset, sorted by name (generated: build/generated/ui_assets_data.cpp).
std::span<const UiAsset> UiAssets();

// The asset named `name`, or null.
const UiAsset* FindUiAsset(std::string_view name);

// The address pages use for an asset: "/static/passkeys.js?v=<first 12 hex of its hash>".
// An unknown name gives "/static/<name>" (and a 404 when fetched).
std::string UiAssetUrl(std::string_view name);

}  // namespace strato::http
