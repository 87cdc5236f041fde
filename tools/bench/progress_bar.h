// A one-line progress bar for a terminal: how far the run is (by requests or by time), how
// many requests completed and the rate so far. Redraws at most five times a second, since a
// terminal that scrolls quickly costs the benchmark CPU.
//
// Thread-safety: not thread-safe; one thread updates it.
#pragma once

#include <cstdint>
#include <cstdio>

namespace raftkv::bench {

class ProgressBar {
 public:
  // total > 0: progress counts requests; otherwise it counts seconds out of duration_s.
  ProgressBar(std::FILE* out, uint64_t total, double duration_s);

  void Update(uint64_t completed, double elapsed_s);
  // Erases the bar so that the summary starts on a clean line.
  void Finish();

 private:
  static constexpr double kMinRedrawInterval_s = 0.2;
  static constexpr int kWidth = 30;

  std::FILE* out_;
  uint64_t total_;
  double duration_s_;
  double last_draw_s_ = -1;
  bool drawn_ = false;
};

}  // namespace raftkv::bench
