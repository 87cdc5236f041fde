// Routes the consensus core's log lines to spdlog.
//
// Thread-safety: thread-safe (spdlog loggers are).
#pragma once

#include <memory>
#include <string_view>

#include "raftkv/raft/logger.h"
#include "spdlog/spdlog.h"

namespace raftkv::server {

class RaftLogger final : public raft::Logger {
 public:
  explicit RaftLogger(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

  void Log(raft::LogLevel level, std::string_view message) override {
    switch (level) {
      case raft::LogLevel::kDebug:
        logger_->debug("raft: {}", message);
        break;
      case raft::LogLevel::kInfo:
        logger_->info("raft: {}", message);
        break;
      case raft::LogLevel::kWarn:
        logger_->warn("raft: {}", message);
        break;
      case raft::LogLevel::kError:
        logger_->error("raft: {}", message);
        break;
    }
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace raftkv::server
