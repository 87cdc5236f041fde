#include "namespace_network.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "program.h"

namespace raftkv::faults {
namespace {

constexpr char kPrefix[] = "rkvf";
constexpr char kBridgePrefix[] = "rkvfbr";

absl::Status Run(const std::vector<std::string>& argv) {
  ProgramResult r = RunProgram(argv);
  if (r.exit_code == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("`", absl::StrJoin(argv, " "), "` failed (exit ",
                                          r.exit_code,
                                          "): ", absl::StripAsciiWhitespace(r.output)));
}

// The run that owns a name such as "rkvf1234b-0" or "rkvfbr1234b": its pid, or 0.
int OwnerPid(absl::string_view name, absl::string_view prefix) {
  if (!absl::ConsumePrefix(&name, prefix)) return 0;
  size_t digits = 0;
  while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
  int pid = 0;
  if (digits == 0 || !absl::SimpleAtoi(name.substr(0, digits), &pid)) return 0;
  return pid;
}

// A network belongs to a live run if its pid is this process or a running fault harness
// (raftkv_fault_harness_test or raftkv-fault-harness; comm is cut at 15 characters).
bool OwnerAlive(int pid) {
  if (pid == ::getpid()) return true;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (!std::getline(comm, name)) return false;
  return absl::StrContains(name, "fault");
}

void KillProcessesIn(const std::string& ns) {
  ProgramResult pids = RunProgram({"ip", "netns", "pids", ns});
  for (absl::string_view line : absl::StrSplit(pids.output, '\n', absl::SkipWhitespace())) {
    int pid = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &pid) && pid > 1) ::kill(pid, SIGKILL);
  }
}

// A /24 in 10.78.0.0/16 that no interface of the root namespace uses yet, starting from one
// derived from the pid so that concurrent runs usually differ at once.
int FreeOctet() {
  const std::string addresses = RunProgram({"ip", "-o", "-4", "addr", "show"}).output;
  const int first = 20 + ::getpid() % 200;
  for (int k = 0; k < 230; ++k) {
    const int octet = 20 + (first - 20 + k) % 230;
    if (!absl::StrContains(addresses, absl::StrCat(" 10.78.", octet, "."))) return octet;
  }
  return first;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NamespaceNetwork>> NamespaceNetwork::Create(int members,
                                                                           RunLog& log) {
  if (::geteuid() != 0) {
    return absl::PermissionDeniedError("not running as root: network namespaces need root");
  }
  static std::atomic<int> networks{0};
  const std::string tag =
      absl::StrCat(::getpid(), std::string(1, static_cast<char>('a' + networks++ % 26)));
  std::unique_ptr<NamespaceNetwork> network(new NamespaceNetwork(tag, FreeOctet(), members, log));
  if (absl::Status s = network->Build(); !s.ok()) return s;  // the destructor undoes the rest
  network->SetUpOneWayQdisc();
  return network;
}

NamespaceNetwork::NamespaceNetwork(std::string tag, int octet, int members, RunLog& log)
    : tag_(std::move(tag)),
      octet_(octet),
      members_(members),
      log_(log),
      namespace_created_(members, false) {}

NamespaceNetwork::~NamespaceNetwork() { Destroy(); }

std::string NamespaceNetwork::address(int i) const {
  return absl::StrCat("10.78.", octet_, ".", 10 + i);
}
std::string NamespaceNetwork::namespace_name(int i) const {
  return absl::StrCat(kPrefix, tag_, "-", i);
}
std::string NamespaceNetwork::veth(int i) const { return absl::StrCat(kPrefix, tag_, "v", i); }
std::string NamespaceNetwork::subnet() const { return absl::StrCat("10.78.", octet_, ".0/24"); }

absl::Status NamespaceNetwork::InNamespace(int i, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"ip", "netns", "exec", namespace_name(i)});
  return Run(argv);
}

absl::Status NamespaceNetwork::Build() {
  const std::string br = bridge();
  if (absl::Status s = Run({"ip", "link", "add", br, "type", "bridge"}); !s.ok()) return s;
  bridge_created_ = true;
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"ip", "addr", "add", absl::StrCat("10.78.", octet_, ".1/24"), "dev", br},
           {"ip", "link", "set", br, "up"}}) {
    if (absl::Status s = Run(argv); !s.ok()) return s;
  }
  for (int i = 0; i < members_; ++i) {
    const std::string ns = namespace_name(i);
    if (absl::Status s = Run({"ip", "netns", "add", ns}); !s.ok()) return s;
    namespace_created_[i] = true;
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"ip", "link", "add", veth(i), "type", "veth", "peer", "name", "eth0", "netns", ns},
             {"ip", "link", "set", veth(i), "master", br, "up"},
             {"ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0"},
             {"ip", "-n", ns, "link", "set", "eth0", "up"},
             {"ip", "-n", ns, "link", "set", "lo", "up"}}) {
      if (absl::Status s = Run(argv); !s.ok()) return s;
    }
  }
  log_.Print("network: bridge {} ({}.1), member i at {} in namespace {} (i = 0..{})", br,
             absl::StrCat("10.78.", octet_), absl::StrCat("10.78.", octet_, ".<10+i>"),
             absl::StrCat(kPrefix, tag_, "-<i>"), members_ - 1);
  return absl::OkStatus();
}

void NamespaceNetwork::SetUpOneWayQdisc() {
  // The drop class 1:2: an htb class whose leaf queue holds no packet at all. Traffic that no
  // filter classifies is sent directly (htb without a default class), unshaped.
  for (int i = 0; i < members_; ++i) {
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"tc", "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb"},
             {"tc", "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:2", "htb", "rate",
              "8kbit", "quantum", "1514"},
             {"tc", "qdisc", "add", "dev", "eth0", "parent", "1:2", "handle", "2:", "pfifo",
              "limit", "0"}}) {
      if (absl::Status s = InNamespace(i, argv); !s.ok()) {
        one_way_problem_ = std::string(s.message());
        log_.Print("network: one-way cuts unavailable: {}", one_way_problem_);
        return;
      }
    }
  }
}

void NamespaceNetwork::Destroy() {
  for (int i = 0; i < members_; ++i) {
    if (!namespace_created_[i]) continue;
    KillProcessesIn(namespace_name(i));
    // Deleting the namespace deletes the veth pair with it.
    if (absl::Status s = Run({"ip", "netns", "del", namespace_name(i)}); !s.ok()) {
      log_.Print("network: {}", std::string(s.message()));
    }
  }
  if (bridge_created_) {
    if (absl::Status s = Run({"ip", "link", "del", bridge()}); !s.ok()) {
      log_.Print("network: {}", std::string(s.message()));
    }
  }
}

void NamespaceNetwork::RemoveStale(RunLog& log) {
  if (::geteuid() != 0) return;
  const std::string namespaces = RunProgram({"ip", "netns", "list"}).output;
  for (absl::string_view line : absl::StrSplit(namespaces, '\n', absl::SkipWhitespace())) {
    const std::string ns(line.substr(0, line.find(' ')));
    const int owner = OwnerPid(ns, kPrefix);
    if (owner == 0 || OwnerAlive(owner)) continue;
    KillProcessesIn(ns);
    absl::Status s = Run({"ip", "netns", "del", ns});
    log.Print("network: removed namespace {} left by run {}{}", ns, owner,
              s.ok() ? "" : absl::StrCat(" (", s.message(), ")"));
  }
  // "7: rkvfbr1234a: <BROADCAST,..." per bridge.
  const std::string bridges = RunProgram({"ip", "-o", "link", "show", "type", "bridge"}).output;
  for (absl::string_view line : absl::StrSplit(bridges, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ": ");
    if (fields.size() < 2) continue;
    const std::string name(fields[1].substr(0, fields[1].find('@')));
    const int owner = OwnerPid(name, kBridgePrefix);
    if (owner == 0 || OwnerAlive(owner)) continue;
    absl::Status s = Run({"ip", "link", "del", name});
    log.Print("network: removed bridge {} left by run {}{}", name, owner,
              s.ok() ? "" : absl::StrCat(" (", s.message(), ")"));
  }
}

absl::Status NamespaceNetwork::Cut(int from, int to) {
  if (routes_.contains({from, to})) return absl::OkStatus();
  absl::Status s =
      Run({"ip", "-n", namespace_name(from), "route", "add", "blackhole", address(to) + "/32"});
  if (s.ok()) routes_.insert({from, to});
  return s;
}

absl::Status NamespaceNetwork::CutOneWay(int from, int to) {
  if (!one_way_supported()) return absl::UnavailableError(one_way_problem_);
  if (filters_.contains({from, to})) return absl::OkStatus();
  // One filter priority per destination, so that healing deletes exactly this cut's filters.
  const std::string prio = absl::StrCat(10 + to);
  for (int port : {kNamespacePeerPort, kNamespaceClientPort}) {
    absl::Status s = InNamespace(from, {"tc",     "filter", "add",   "dev",
                                        "eth0",   "parent", "1:",    "protocol",
                                        "ip",     "prio",   prio,    "u32",
                                        "match",  "ip",     "dst",   address(to) + "/32",
                                        "match",  "ip",     "dport", absl::StrCat(port),
                                        "0xffff", "flowid", "1:2"});
    if (!s.ok()) {
      (void)InNamespace(from, {"tc", "filter", "del", "dev", "eth0", "parent", "1:", "protocol",
                               "ip", "prio", prio});
      return s;
    }
  }
  filters_.insert({from, to});
  return absl::OkStatus();
}

absl::Status NamespaceNetwork::HealAll() {
  absl::Status first;
  for (auto it = routes_.begin(); it != routes_.end();) {
    const auto [from, to] = *it;
    absl::Status s =
        Run({"ip", "-n", namespace_name(from), "route", "del", "blackhole", address(to) + "/32"});
    if (s.ok()) {
      it = routes_.erase(it);
    } else {
      if (first.ok()) first = s;
      ++it;
    }
  }
  for (auto it = filters_.begin(); it != filters_.end();) {
    const auto [from, to] = *it;
    absl::Status s = InNamespace(from, {"tc", "filter", "del", "dev", "eth0", "parent",
                                        "1:", "protocol", "ip", "prio", absl::StrCat(10 + to)});
    if (s.ok()) {
      it = filters_.erase(it);
    } else {
      if (first.ok()) first = s;
      ++it;
    }
  }
  return first;
}

}  // namespace raftkv::faults
