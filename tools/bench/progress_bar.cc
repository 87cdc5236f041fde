#include "progress_bar.h"

#include <algorithm>
#include <string>

#include "fmt/format.h"

namespace raftkv::bench {

ProgressBar::ProgressBar(std::FILE* out, uint64_t total, double duration_s)
    : out_(out), total_(total), duration_s_(duration_s) {}

void ProgressBar::Update(uint64_t completed, double elapsed_s) {
  if (last_draw_s_ >= 0 && elapsed_s - last_draw_s_ < kMinRedrawInterval_s) return;
  last_draw_s_ = elapsed_s;
  const double fraction =
      std::clamp(total_ > 0 ? static_cast<double>(completed) / static_cast<double>(total_)
                            : elapsed_s / duration_s_,
                 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  const double rate = elapsed_s > 0 ? static_cast<double>(completed) / elapsed_s : 0;
  // \r and "erase to end of line" redraw in place however long the previous line was.
  std::string line = fmt::format("\r[{}{}] {:3.0f}%  {} requests  {:.0f} req/s  {:.1f} s\x1b[K",
                                 std::string(filled, '#'), std::string(kWidth - filled, '.'),
                                 fraction * 100, completed, rate, elapsed_s);
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  std::fputs("\r\x1b[K", out_);
  std::fflush(out_);
}

}  // namespace raftkv::bench
