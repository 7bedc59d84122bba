#include "http/pages/ui_assets.h"

#include <algorithm>

namespace strato::http {

const UiAsset* FindUiAsset(std::string_view name) {
  auto assets = UiAssets();
  auto it = std::find_if(assets.begin(), assets.end(),
                         [name](const UiAsset& a) { return a.name == name; });
  return it == assets.end() ? nullptr : &*it;
}

std::string UiAssetUrl(std::string_view name) {
  std::string url = "/static/" + std::string(name);
  if (const UiAsset* a = FindUiAsset(name)) url += "?v=" + std::string(a->sha256.substr(0, 12));
  return url;
}

}  // namespace strato::http
