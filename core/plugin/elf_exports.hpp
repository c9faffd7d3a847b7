#pragma once
// The dynamic symbols a shared library exports, read from its ELF file with
// libelf. A plugin should export exactly one (docs/abi.md, "Symbol export
// rule"); the loader warns about the rest.

#include <string>
#include <vector>

namespace touchpoint::core {

/// Names of the defined, non-local symbols in the file's dynamic symbol
/// table, in table order. Reads `fd` without moving its offset. Throws
/// std::runtime_error when the file is not a readable ELF file.
std::vector<std::string> exported_symbols(int fd);

}  // namespace touchpoint::core
