#pragma once
// The dashboard's files, embedded at build time (cmake/EmbedFiles.cmake).
#include <string_view>

namespace touchpoint::core::dashboard {

/// The bytes of an embedded file ("index.html", "app.js", "style.css"); empty when unknown.
std::string_view embedded_asset(std::string_view name);

}  // namespace touchpoint::core::dashboard
