// The simulator's virtual clock and its queue of pending events.
//
// Time is a plain counter of virtual microseconds that only moves when the next event is
// popped, so a run never reads the wall clock and never sleeps. Events at the same instant run
// in the order they were scheduled (a sequence number breaks ties), which keeps a run a pure
// function of its seed. Not thread-safe: the simulator is single-threaded by design.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace raftkv::sim {

// Virtual microseconds since the start of a run.
using TimeUs = uint64_t;

class EventQueue {
 public:
  using Action = std::function<void()>;

  TimeUs now_us() const { return now_us_; }
  bool empty() const { return queue_.empty(); }
  size_t size() const { return queue_.size(); }
  uint64_t events_run() const { return events_run_; }

  // Runs `action` `delay_us` from now.
  void After(TimeUs delay_us, Action action) { At(now_us_ + delay_us, std::move(action)); }

  // Runs `action` at `at_us`. REQUIRES: at_us >= now_us().
  void At(TimeUs at_us, Action action) {
    queue_.push(Event{at_us < now_us_ ? now_us_ : at_us, next_seq_++, std::move(action)});
  }

  // Time of the next event. REQUIRES: !empty().
  TimeUs next_us() const { return queue_.top().at_us; }

  // Pops the earliest event, advances the clock to it and runs it. REQUIRES: !empty().
  void RunNext() {
    // Move out before popping: the action may schedule more events.
    Event event = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    now_us_ = event.at_us;
    ++events_run_;
    event.action();
  }

 private:
  struct Event {
    TimeUs at_us;
    uint64_t seq;
    Action action;
    // std::priority_queue is a max-heap: "less" means "runs later".
    bool operator<(const Event& other) const {
      return at_us != other.at_us ? at_us > other.at_us : seq > other.seq;
    }
  };

  std::priority_queue<Event> queue_;
  TimeUs now_us_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t events_run_ = 0;
};

}  // namespace raftkv::sim
