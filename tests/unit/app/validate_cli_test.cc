// Runs the real contactgate binary: exit codes, output order, threads.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace {

struct run_result {
  int exit_code{-1};
  std::string out;
};

run_result run(const std::string& args, const std::string& stdin_text = "", bool with_stderr = false) {
  char tmpl[] = "/tmp/cg_cli_in_XXXXXX";
  const int fd = mkstemp(tmpl);
  EXPECT_GE(fd, 0);
  {
    std::ofstream f(tmpl, std::ios::binary);
    f << stdin_text;
  }
  close(fd);
  const std::string cmd = std::string(CG_BINARY) + " " + args + " < " + tmpl + (with_stderr ? " 2>&1" : " 2>/dev/null");
  run_result r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::remove(tmpl);
  return r;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

constexpr const char* good =
    R"({"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671","country_iso_code":"US"})";

TEST(ValidateCli, ExitZeroWhenAllAccepted) {
  auto r = run("validate", std::string(good) + "\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(
      r.out,
      R"({"line":1,"index":0,"correlation_id":"0123456789abcdef0123456789abcdef","status":"accepted","reasons":[]})"
      "\n");
}

TEST(ValidateCli, ExitOneWhenAnyRejectedAndEveryLineGetsAnOutcome) {
  auto r = run("validate", std::string(good) + "\n\nnot json\n[" + good + "," + good + "]\n");
  EXPECT_EQ(r.exit_code, 1);
  auto ls = lines(r.out);
  ASSERT_EQ(ls.size(), 5u);
  EXPECT_NE(ls[1].find(R"("line":2,"index":null)"), std::string::npos);
  EXPECT_NE(ls[1].find("EMPTY_PAYLOAD"), std::string::npos);
  EXPECT_NE(ls[2].find("INVALID_JSON"), std::string::npos);
  EXPECT_NE(ls[3].find(R"("line":4,"index":0,)"), std::string::npos);
  EXPECT_NE(ls[4].find(R"("line":4,"index":1,)"), std::string::npos);
  EXPECT_NE(ls[4].find("DUPLICATE_IN_REQUEST"), std::string::npos);
  EXPECT_NE(ls[4].find(R"("error_code":30647)"), std::string::npos);
}

TEST(ValidateCli, ExitTwoOnMissingFileAndBadUsage) {
  EXPECT_EQ(run("validate /nonexistent/file.ndjson").exit_code, 2);
  EXPECT_EQ(run("validate --threads 0").exit_code, 2);
  EXPECT_EQ(run("frobnicate").exit_code, 2);
}

TEST(ValidateCli, ThreadsKeepInputOrderAndSameOutput) {
  auto gen = run("generate --count 3000 --seed 7 --array-ratio 0.2 --bulk-ratio 0.1");
  ASSERT_EQ(gen.exit_code, 0);
  auto one = run("validate", gen.out);
  auto four = run("validate --threads 4", gen.out);
  EXPECT_EQ(one.exit_code, 1);
  EXPECT_EQ(four.exit_code, 1);
  EXPECT_EQ(one.out, four.out);
  EXPECT_GE(lines(one.out).size(), 3000u);
}

TEST(ValidateCli, FastAndReferencePhoneValidatorsGiveTheSameOutput) {
  auto gen = run("generate --count 4000 --seed 9 --invalid-ratio 0.5 --array-ratio 0.2 --bulk-ratio 0.1");
  ASSERT_EQ(gen.exit_code, 0);
  auto fast = run("validate --phone-validator fast", gen.out);
  auto reference = run("validate --phone-validator reference", gen.out);
  EXPECT_EQ(fast.out, reference.out);
  EXPECT_NE(fast.out.find("INVALID_CONTACT_ID"), std::string::npos);
  EXPECT_EQ(run("validate --phone-validator other", "").exit_code, 2);
}

TEST(ValidateCli, OverlongLineIsRejectedAsTooLarge) {
  auto r = run("validate --max-payload-bytes 200", std::string(500, ' ') + "{}\n" + good + "\n");
  auto ls = lines(r.out);
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_NE(ls[0].find("TOO_LARGE"), std::string::npos);
  EXPECT_NE(ls[1].find("accepted"), std::string::npos);
}

// Lines are read into a 4 MiB buffer whose unread rest moves to the front only when the next
// read would not fit: many fills of it, lines cut by its end and lines longer than it each get
// their one verdict, in order, with their line number.
TEST(ValidateCli, LinesAcrossManyBufferFillsKeepTheirNumbersAndVerdicts) {
  const std::string head = R"({"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671",)"
                           R"("country_iso_code":"US","pad":")";
  std::string in;
  const std::size_t count = 40000;
  for (std::size_t i = 1; i <= count; ++i) {
    const std::size_t pad = i % 10000 == 0 ? (std::size_t{5} << 20) + i : (i * 7919) % 700;
    in += head + std::string(pad, 'x') + "\"}\n";
  }
  auto r = run("validate", in);
  const auto ls = lines(r.out);
  ASSERT_EQ(ls.size(), count);
  for (std::size_t i = 1; i <= count; ++i) {
    const std::string& l = ls[i - 1];
    ASSERT_EQ(l.rfind("{\"line\":" + std::to_string(i) + ",", 0), 0u) << l;
    if (i % 10000 == 0) {
      ASSERT_NE(l.find("TOO_LARGE"), std::string::npos) << l;
    } else {
      ASSERT_NE(l.find(R"("status":"accepted")"), std::string::npos) << l;
    }
  }
}

TEST(ValidateCli, VersionNamesDataVersions) {
  auto r = run("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("phone data: libphonenumber metadata " CG_PHONE_RELEASE " (sha256 "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("iso-codes"), std::string::npos);
  EXPECT_NE(r.out.find("postal_codes.tsv"), std::string::npos);
}

// An operator's data file: used for judging, and refused (exit 2, nothing judged) when its
// canaries do not give the verdicts its manifest records.
TEST(ValidateCli, PhoneMetadataFileIsUsedAndCheckedByItsCanaries) {
  const std::string dir = "/tmp/cg_cli_phone_" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  const std::string file = dir + "/phone.bin";
  ASSERT_EQ(
      std::system(
          ("cp " CG_PHONE_METADATA_BIN " " + file + " && cp " CG_PHONE_METADATA_BIN ".json " + file + ".json").c_str()),
      0);
  const std::string benin =
      R"({"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+2290195123456","country_iso_code":"BJ"})";
  EXPECT_EQ(run("validate --phone-metadata " + file, benin + "\n").exit_code, 0);
  EXPECT_EQ(run("validate --phone-metadata " + file + " --phone-validator reference", benin + "\n").exit_code, 0);

  std::ifstream in(file + ".json");
  std::string manifest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string from = R"("+2290195123456": "VALID")";
  const auto at = manifest.find(from);
  ASSERT_NE(at, std::string::npos) << manifest;
  manifest.replace(at, from.size(), R"("+2290195123456": "TOO_LONG")");
  std::ofstream(file + ".json", std::ios::trunc) << manifest;
  const auto r = run("validate --phone-metadata " + file, benin + "\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

constexpr const char* pretty_request = R"({
  "contacts": [
    {"correlation_id": "0123456789abcdef0123456789abcdef", "contact_id": "+14155552671", "country_iso_code": "US"},
    {"correlation_id": "0123456789abcdef0123456789abcdee", "contact_id": "+1415", "country_iso_code": "US"}
  ]
}
)";

TEST(ValidateCli, InputJsonJudgesAPrettyPrintedRequestAsOnePayload) {
  const auto r = run("validate --input json", pretty_request);
  EXPECT_EQ(r.exit_code, 1);
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 2u) << r.out;
  EXPECT_NE(
      out[0].find(R"("line":1,"index":0,"correlation_id":"0123456789abcdef0123456789abcdef","status":"accepted")"),
      std::string::npos);
  EXPECT_NE(out[1].find(R"("index":1)"), std::string::npos);
  EXPECT_NE(out[1].find(R"("detail":"TOO_SHORT")"), std::string::npos);
}

TEST(ValidateCli, NdjsonFragmentOfAPrettyPrintedDocumentSuggestsInputJson) {
  const auto r = run("validate", pretty_request, true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("line 1 is not valid JSON and looks like part of a larger JSON document"), std::string::npos);
  EXPECT_NE(r.out.find("use --input json"), std::string::npos);
  // A line that is simply broken gets no such hint.
  const auto plain = run("validate", "not json\n", true);
  EXPECT_EQ(plain.out.find("--input json"), std::string::npos) << plain.out;
}

TEST(ValidateCli, InputCsvRowsPointToTheirLines) {
  const std::string csv =
      "correlation_id,contact_id,country_iso_code,zip_code,name\r\n"
      "0123456789abcdef0123456789abcdef,+14155552671,US,94107,\"Doe, Jane\"\r\n"
      "\r\n"
      "0123456789abcdef0123456789abcdee,+1415,US,,\"two\nlines\"\r\n"
      "\"0123456789abcdef0123456789abcded\",+442071838750,gb,\"SW1A 1AA\",\"\"\"quoted\"\"\"\n";
  const auto r = run("validate --input csv", csv);
  EXPECT_EQ(r.exit_code, 1);
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 3u) << r.out;
  EXPECT_NE(
      out[0].find(R"({"line":2,"index":0,"correlation_id":"0123456789abcdef0123456789abcdef","status":"accepted")"),
      std::string::npos)
      << out[0];
  EXPECT_NE(out[1].find(R"({"line":4,)"), std::string::npos) << out[1];
  EXPECT_NE(out[1].find(R"("detail":"TOO_SHORT")"), std::string::npos) << out[1];
  // An unquoted empty cell is a missing field: the zip code rule is not applied to it.
  EXPECT_EQ(out[1].find("INVALID_ZIP_CODE"), std::string::npos) << out[1];
  EXPECT_NE(out[2].find(R"({"line":6,)"), std::string::npos) << out[2];
  EXPECT_NE(out[2].find(R"("code":"INVALID_COUNTRY_ISO_CODE")"), std::string::npos) << out[2];
}

TEST(ValidateCli, InvalidCsvStopsWithTheLineAndExitTwo) {
  auto r = run("validate --input csv", "a,b\n1,2\n1,2,3\n", true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("line 3: 3 fields, the header row has 2"), std::string::npos) << r.out;
  r = run("validate --input csv", "a,b\n1,\"x\"y\n", true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("line 2: not valid CSV (RFC 4180)"), std::string::npos) << r.out;
  r = run("validate --input csv", "a,a\n1,2\n", true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("names 'a' twice"), std::string::npos) << r.out;
  r = run("validate --input csv", "", true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("no header row"), std::string::npos) << r.out;
}

TEST(ValidateCli, EmptyNdjsonInputGivesNoOutputAndExitZero) {
  const auto r = run("validate", "", true);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
}

// Output errors: a closed pipe ends the command by SIGPIPE, silently, like other Unix tools
// (status 141 in the shell); any other write error is a message and exit 2.
TEST(ValidateCli, ClosedPipeIsSigpipeAndOtherOutputErrorsAreExitTwo) {
  const auto shell = [](const std::string& script) {
    FILE* p = popen(("bash -c '" + script + "'").c_str(), "r");
    char buf[4096];
    std::string out;
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
    return out;
  };
  const std::string bin = CG_BINARY;
  for (const std::string& cmd :
       {bin + " generate --count 200000", bin + " generate --count 200000 | " + bin + " validate"}) {
    EXPECT_EQ(
        shell("set -o pipefail; " + cmd + " 2>/tmp/cg_pipe_err | head -1 >/dev/null; echo $?; cat /tmp/cg_pipe_err"),
        "141\n")
        << cmd;
  }
  EXPECT_EQ(shell(bin + " generate --count 1000 2>&1 >/dev/full; echo $?"),
            "contactgate generate: cannot write output: No space left on device\n2\n");
  EXPECT_EQ(shell(bin + " generate --count 10 | " + bin + " validate 2>&1 >/dev/full; echo $?"),
            "contactgate validate: cannot write output: No space left on device\n2\n");
}

}  // namespace
