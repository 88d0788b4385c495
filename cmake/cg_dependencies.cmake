# Every dependency comes from a Debian bookworm package. A missing one stops
# configuration with a message that names the package to install.
find_package(PkgConfig)
if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

macro(cg_require_pkg var module debian_pkg)
  pkg_check_modules(${var} QUIET IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "contactgate needs ${module} (pkg-config): apt-get install ${debian_pkg}")
  endif()
endmacro()

find_package(simdjson QUIET CONFIG)
if(NOT simdjson_FOUND)
  message(FATAL_ERROR "contactgate needs simdjson: apt-get install libsimdjson-dev")
endif()

cg_require_pkg(RE2 re2 libre2-dev)
cg_require_pkg(PROTOBUF protobuf libprotobuf-dev)
cg_require_pkg(ICU_UC icu-uc libicu-dev)
cg_require_pkg(LIBCRYPTO libcrypto libssl-dev)

find_path(PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h)
find_library(PHONENUMBER_LIBRARY phonenumber)
if(NOT PHONENUMBER_INCLUDE_DIR OR NOT PHONENUMBER_LIBRARY)
  message(FATAL_ERROR "contactgate needs libphonenumber: apt-get install libphonenumber-dev")
endif()
add_library(cg_ext_phonenumber INTERFACE)
target_include_directories(cg_ext_phonenumber INTERFACE ${PHONENUMBER_INCLUDE_DIR})
target_link_libraries(cg_ext_phonenumber INTERFACE ${PHONENUMBER_LIBRARY} PkgConfig::PROTOBUF PkgConfig::ICU_UC)
add_library(cg::ext_phonenumber ALIAS cg_ext_phonenumber)

find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
if(NOT CLI11_INCLUDE_DIR)
  message(FATAL_ERROR "contactgate needs CLI11: apt-get install libcli11-dev")
endif()

# RapidJSON (header-only) writes JSON; libcsv reads CSV for `validate --input csv`.
find_path(RAPIDJSON_INCLUDE_DIR rapidjson/writer.h)
if(NOT RAPIDJSON_INCLUDE_DIR)
  message(FATAL_ERROR "contactgate needs RapidJSON: apt-get install rapidjson-dev")
endif()
# RAPIDJSON_SSE2 is deliberately NOT defined: RapidJSON 1.1.0's SSE2 string scan (Debian's
# rapidjson-dev) tests `max(byte, 0x19) == 0x19`, so it copies the control bytes 0x1A-0x1F of a
# string of 16 or more bytes unescaped: invalid JSON (found by the payload fuzzer in rejection
# records). Writer<StringBuffer> then uses RapidJSON's byte loop; emit/json_buffer.h has its
# own SSE2 scan with the correct bound.
find_path(CSV_INCLUDE_DIR csv.h)
find_library(CSV_LIBRARY csv)
if(NOT CSV_INCLUDE_DIR OR NOT CSV_LIBRARY)
  message(FATAL_ERROR "contactgate needs libcsv: apt-get install libcsv-dev")
endif()

find_package(Threads REQUIRED)

# jemalloc replaces glibc malloc in the binary: the pipeline allocates on worker threads and
# frees on the consumer thread, where glibc's arenas spent ~30% of CPU (perf) and the
# end-to-end rate rose from 201k to 315k records/s with jemalloc (bench/README.md).
option(CG_JEMALLOC "Link the contactgate binary with jemalloc" ON)
if(CG_JEMALLOC AND NOT CG_SANITIZE)
  find_library(JEMALLOC_LIBRARY NAMES jemalloc)
  if(NOT JEMALLOC_LIBRARY)
    message(FATAL_ERROR "contactgate links jemalloc: apt-get install libjemalloc-dev (or -DCG_JEMALLOC=OFF)")
  endif()
endif()

set(CG_ISO_CODES_JSON "/usr/share/iso-codes/json/iso_3166-1.json" CACHE FILEPATH "ISO 3166-1 list from Debian iso-codes")
if(NOT EXISTS "${CG_ISO_CODES_JSON}")
  message(FATAL_ERROR "contactgate needs ${CG_ISO_CODES_JSON}: apt-get install iso-codes")
endif()
pkg_check_modules(ISO_CODES QUIET iso-codes)
if(NOT ISO_CODES_FOUND)
  message(FATAL_ERROR "contactgate needs iso-codes.pc: apt-get install iso-codes")
endif()

if(CG_BUILD_TESTS)
  find_package(GTest QUIET CONFIG)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR "tests need GoogleTest: apt-get install libgtest-dev libgmock-dev (or -DCG_BUILD_TESTS=OFF)")
  endif()
  include(GoogleTest)
endif()
if(CG_BUILD_BENCH)
  find_package(benchmark QUIET CONFIG)
  if(NOT benchmark_FOUND)
    message(FATAL_ERROR "benchmarks need Google Benchmark: apt-get install libbenchmark-dev (or -DCG_BUILD_BENCH=OFF)")
  endif()
endif()

cg_require_pkg(TOMLPP tomlplusplus libtomlplusplus-dev)
cg_require_pkg(RDKAFKA rdkafka librdkafka-dev)
find_path(BOOST_LOCKFREE_INCLUDE_DIR boost/lockfree/queue.hpp)
if(NOT BOOST_LOCKFREE_INCLUDE_DIR)
  message(FATAL_ERROR "contactgate needs Boost.Lockfree: apt-get install libboost-dev")
endif()
find_package(prometheus-cpp QUIET CONFIG)
if(NOT prometheus-cpp_FOUND)
  message(FATAL_ERROR "contactgate needs prometheus-cpp: apt-get install prometheus-cpp-dev")
endif()
find_package(spdlog QUIET CONFIG)
if(NOT spdlog_FOUND)
  message(FATAL_ERROR "contactgate needs spdlog: apt-get install libspdlog-dev")
endif()
