// The holder's control socket: a unix stream socket in the state
// directory (mode 0600 in a 0700 directory, and the peer's uid checked),
// one line per request and per reply. `fractfs sync` asks "checkpoint".
#pragma once

#include <optional>
#include <string>

namespace fractfs {

class ControlServer {
 public:
  ControlServer() = default;
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds `path` (replacing a stale socket). false with errno on failure.
  bool listen(const std::string& path) noexcept;
  int fd() const noexcept { return fd_; }
  // Accepts one client from our own uid and reads its request line.
  // nullopt when there was none (or it was refused). `client` is set.
  std::optional<std::string> accept_request(int& client) noexcept;
  static void reply(int client, const std::string& line) noexcept;  // and closes it
  void close() noexcept;
  // New clients find no socket; the descriptor stays open (the shim keeps
  // it out of the app's reach until close()).
  void unlink() noexcept;
  // A forked child's copy: drop it without unlinking the socket.
  void abandon_after_fork() noexcept;

 private:
  int fd_ = -1;
  std::string path_;
};

// Sends `request` to the socket at `path` and waits up to `timeout_s` for
// the reply line. nullopt when nobody listens there.
std::optional<std::string> control_request(const std::string& path, const std::string& request, double timeout_s);

}  // namespace fractfs
