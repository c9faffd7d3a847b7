#include "plugin/elf_exports.hpp"

#include <gelf.h>
#include <libelf.h>

#include <memory>
#include <stdexcept>

namespace touchpoint::core {

std::vector<std::string> exported_symbols(int fd) {
  if (elf_version(EV_CURRENT) == EV_NONE) throw std::runtime_error("libelf is unusable");
  std::unique_ptr<Elf, decltype(&elf_end)> elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr), &elf_end);
  if (!elf) throw std::runtime_error(std::string("cannot read ELF: ") + elf_errmsg(-1));
  std::vector<std::string> out;
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr; scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_DYNSYM || shdr.sh_entsize == 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    const size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
      if (sym.st_shndx == SHN_UNDEF || GELF_ST_BIND(sym.st_info) == STB_LOCAL) continue;
      const char* name = elf_strptr(elf.get(), shdr.sh_link, sym.st_name);
      if (name != nullptr && *name != '\0') out.emplace_back(name);
    }
  }
  return out;
}

}  // namespace touchpoint::core
