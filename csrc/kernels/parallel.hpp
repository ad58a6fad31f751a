// Plain threads for the kernels: a fork-join over a few tasks on POSIX threads, kept in one
// place (and off the C++ runtime's std::thread) so the wheel's symbol needs stay small.
#pragma once
#include <cstddef>

namespace kama {

// Cores this process may run on (its CPU affinity), at least 1.
std::size_t usable_cores() noexcept;

// Workers for `tasks` independent pieces of `outputs` values in all: `threads` when given
// (>= 1), else every core once each has at least 2^17 outputs; never more than `tasks`.
std::size_t workers_for(std::size_t threads, std::size_t tasks, std::size_t outputs) noexcept;

// Runs task(ctx, i) for i in [0, count): task 0 on the calling thread, the others on new
// threads, and returns when all are done. A thread that cannot be started runs its task on
// the calling thread instead, so every task always runs exactly once.
void run_tasks(std::size_t count, void (*task)(void* ctx, std::size_t i), void* ctx) noexcept;

}  // namespace kama
