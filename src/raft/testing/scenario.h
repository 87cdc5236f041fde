// A small text language for scenario ("golden file") tests of the consensus core.
//
// A scenario file is a sequence of commands, each on a line starting with "> ", followed by
// the output it produced when the file was last reviewed. Lines starting with "#" are
// comments; blank lines are ignored. Running the file re-executes every command on a fresh
// Cluster and compares the output line by line; with RAFTKV_REWRITE_GOLDEN=1 the test writes
// the new output back instead (review the diff: it must be right by the paper, not merely what
// the code does today).
//
// Commands (ids are node ids; options in brackets):
//   add-nodes N [pre-vote] [check-quorum] [lease-read] [no-forwarding] [election=T]
//             [heartbeat=H] [max-inflight=K] [max-bytes=B] [seed=S] [join]
//                          add N nodes; the first add-nodes fixes the cluster options; the
//                          nodes are the voters of their configuration, or with `join` are
//                          not members yet (see Cluster::AddJoiningNodes)
//   campaign ID            start an election now
//   tick ID [N]            N ticks of one node (default 1); messages stay in flight
//   tick-all [N]           N ticks of every running node
//   propose ID DATA        propose DATA at node ID
//   propose-conf-change ID [v1] [explicit|implicit] CHANGE...
//                          CHANGE is add=ID, remove=ID or learner=ID; no CHANGE leaves a
//                          joint configuration
//   transfer-leader ID TARGET, read-index ID CTX
//   report-unreachable ID PEER, report-snapshot ID PEER ok|fail
//   compact ID INDEX       snapshot node ID's state at INDEX and drop the log before it
//   deliver-msgs [ID]      deliver the messages in flight now (only those to ID), one hop
//   drop-msgs [ID]         drop the messages in flight (only those to ID)
//   stabilize              deliver until no message is in flight, printing each one
//   partition A B | C ...  cut every link between the groups;  heal;  isolate ID;  cut A B
//   drop-type TYPE / allow-type TYPE   (TYPE as printed, e.g. MsgApp)
//   crash ID, restart ID
//   status ID, log ID, applied ID, raft-state, in-flight
// Entries print as term/index [data]; "prev=" and "last=" are term/index too.
//
// Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "raft/testing/cluster.h"

namespace raftkv::raft::testing {

class Scenario {
 public:
  Scenario();
  ~Scenario();

  // Runs one command line (without the "> " prefix) and returns its output lines. Unknown
  // commands and bad arguments produce an "error: ..." line.
  std::vector<std::string> Run(const std::string& command);

 private:
  std::vector<std::string> Execute(const std::vector<std::string>& args);
  Cluster& cluster();
  void Flush(std::vector<std::string>& out);

  std::unique_ptr<Cluster> cluster_;
  std::vector<std::string>* out_ = nullptr;
};

struct ScenarioResult {
  bool matched = true;
  // The file's text with the freshly produced outputs.
  std::string actual;
  // A readable description of the first mismatches.
  std::string diff;
};

// Runs the scenario text and compares every command's output with the recorded one.
ScenarioResult RunScenario(const std::string& text);

}  // namespace raftkv::raft::testing
