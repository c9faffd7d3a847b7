#pragma once
// A Lua 5.4 state for one `lua` step: only the safe standard libraries, text
// chunks only (no bytecode), a memory ceiling enforced by its allocator and an
// instruction ceiling per call enforced by a count hook.
//
// Lua raises errors with longjmp, which skips C++ destructors. Everything
// here that can raise runs inside lua_pcall, in C functions whose frames hold
// only pointers and references; reading values back uses only calls that
// cannot raise.

#include <cstddef>
#include <cstdint>
#include <lua.hpp>
#include <string>
#include <string_view>

namespace touchpoint::core::transform {

struct LuaLimits {
  size_t memory_bytes = 16u << 20;    ///< the whole state, scripts and data
  uint64_t instructions = 1'000'000;  ///< per call of the script's function
};

class LuaSandbox {
 public:
  /// Loads and runs `code` once (it defines the functions). Throws
  /// std::runtime_error with Lua's message ("name:line: ...") on a syntax or
  /// run-time error, or when the chunk is over a limit already.
  LuaSandbox(std::string_view code, const std::string& chunk_name, LuaLimits limits);
  ~LuaSandbox();
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;

  lua_State* state() const noexcept { return L_; }

  /// Starts the instruction count of one call afresh.
  void reset_budget() noexcept { executed_ = 0; }
  /// Whether the current call was stopped by the instruction limit.
  bool over_budget() const noexcept { return executed_ > limits_.instructions; }

  /// The clock of the record views (lua_view.hpp): a view is fresh while
  /// its call and, for nested views, the structure version are current.
  struct ViewClock {
    uint64_t call = 1;
    uint64_t version = 0;
    std::string error;  ///< a message to raise, kept outside the frames longjmp skips
  };
  ViewClock views;

  /// The sandbox that owns `L` (its allocator's user data).
  static LuaSandbox& of(lua_State* L) noexcept;

  /// The sentinel that stands for JSON null (the global `null`).
  static void* null_sentinel() noexcept;
  /// Registry keys (light userdata, so that looking them up allocates
  /// nothing and cannot raise) of the metatables of arrays and of the error
  /// objects reject() raises.
  static const void* array_meta_key() noexcept;
  static const void* reject_meta_key() noexcept;

 private:
  static void* allocate(void* self, void* ptr, size_t old_size, size_t new_size) noexcept;
  static void count_hook(lua_State* L, lua_Debug* ar);

  LuaLimits limits_;
  size_t used_ = 0;
  uint64_t executed_ = 0;
  lua_State* L_ = nullptr;
};

}  // namespace touchpoint::core::transform
