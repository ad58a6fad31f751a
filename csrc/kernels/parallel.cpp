#include "parallel.hpp"

#include <pthread.h>
#include <sched.h>

#include "glibc_symbols.hpp"

namespace kama {

std::size_t usable_cores() noexcept {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return static_cast<std::size_t>(count);
    }
    return 1;
}

std::size_t workers_for(std::size_t threads, std::size_t tasks, std::size_t outputs) noexcept {
    constexpr std::size_t min_outputs = std::size_t(1) << 17;  // below this a thread costs more
    std::size_t w = threads ? threads : usable_cores();
    if (!threads && w > outputs / min_outputs) w = outputs / min_outputs;
    if (w > tasks) w = tasks;
    return w ? w : 1;
}

namespace {

struct job_t {
    void (*task)(void*, std::size_t);
    void* ctx;
    std::size_t index;
};

void* thread_main(void* arg) {
    auto* job = static_cast<job_t*>(arg);
    job->task(job->ctx, job->index);
    return nullptr;
}

}  // namespace

void run_tasks(std::size_t count, void (*task)(void*, std::size_t), void* ctx) noexcept {
    constexpr std::size_t max_threads = 256;
    if (count > max_threads) count = max_threads;
    job_t jobs[max_threads];
    pthread_t threads[max_threads];
    bool started[max_threads] = {};
    for (std::size_t i = 1; i < count; ++i) {
        jobs[i] = {task, ctx, i};
        started[i] = pthread_create(&threads[i], nullptr, thread_main, &jobs[i]) == 0;
    }
    task(ctx, 0);
    for (std::size_t i = 1; i < count; ++i) {
        if (started[i]) {
            pthread_join(threads[i], nullptr);
        } else {
            task(ctx, i);
        }
    }
}

}  // namespace kama
