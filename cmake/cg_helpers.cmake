# cg_target_defaults(target): C++20, warnings, optional -Werror and sanitizers.
function(cg_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(CG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Sanitizers apply to every target (libraries, tests, tools) so that runtime
# checks see the whole program.
if(CG_SANITIZE)
  add_compile_options(-fsanitize=${CG_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${CG_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND CG_SANITIZE MATCHES "undefined")
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/cmake/sanitizer_ignorelist.txt>)
  endif()
endif()

# cg_module(name src...): a static library cg_<name> with alias cg::<name>.
function(cg_module name)
  add_library(cg_${name} STATIC ${ARGN})
  add_library(cg::${name} ALIAS cg_${name})
  target_include_directories(cg_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  cg_target_defaults(cg_${name})
endfunction()

# simdjson's on-demand API runs the implementation chosen at compile time. Without an
# -march it falls back to scalar code, so parse/ is built for x86-64-v3 (AVX2) when the
# build machine has it. Set CG_SIMD_ARCH="" to build for any x86-64 CPU.
if(NOT DEFINED CACHE{CG_SIMD_ARCH})
  set(_cg_default_arch "")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND EXISTS /proc/cpuinfo)
    file(READ /proc/cpuinfo _cg_cpuinfo)
    if(_cg_cpuinfo MATCHES " avx2" AND _cg_cpuinfo MATCHES " bmi2")
      set(_cg_default_arch "x86-64-v3")
    endif()
  endif()
  set(CG_SIMD_ARCH "${_cg_default_arch}" CACHE STRING "-march for the simdjson parse module ('' = portable)")
endif()
