#include "parallel.hpp"

#if defined(_WIN32)
#include <windows.h>
#include <process.h>
#else
#include <pthread.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif
#endif

#include "glibc_symbols.hpp"

namespace kama {

std::size_t usable_cores() noexcept {
#if defined(__linux__)
    cpu_set_t set;  // the process's affinity: what taskset, cgroups' cpusets and Slurm allow
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return static_cast<std::size_t>(count);
    }
#elif defined(_WIN32)
    DWORD_PTR process = 0, system = 0;  // the process's affinity, within its processor group
    if (GetProcessAffinityMask(GetCurrentProcess(), &process, &system) && process) {
        std::size_t count = 0;
        for (; process; process &= process - 1) ++count;
        return count;
    }
#else
    const long count = sysconf(_SC_NPROCESSORS_ONLN);
    if (count > 0) return static_cast<std::size_t>(count);
#endif
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

#if defined(_WIN32)
using thread_t = HANDLE;
unsigned __stdcall thread_main(void* arg) {
    auto* job = static_cast<job_t*>(arg);
    job->task(job->ctx, job->index);
    return 0;
}
bool start_thread(thread_t* t, job_t* job) noexcept {
    *t = reinterpret_cast<HANDLE>(_beginthreadex(nullptr, 0, thread_main, job, 0, nullptr));
    return *t != nullptr;
}
void join_thread(thread_t t) noexcept {
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}
#else
using thread_t = pthread_t;
void* thread_main(void* arg) {
    auto* job = static_cast<job_t*>(arg);
    job->task(job->ctx, job->index);
    return nullptr;
}
bool start_thread(thread_t* t, job_t* job) noexcept { return pthread_create(t, nullptr, thread_main, job) == 0; }
void join_thread(thread_t t) noexcept { pthread_join(t, nullptr); }
#endif

}  // namespace

void run_tasks(std::size_t count, void (*task)(void*, std::size_t), void* ctx) noexcept {
    constexpr std::size_t max_threads = 256;
    if (count > max_threads) count = max_threads;
    job_t jobs[max_threads];
    thread_t threads[max_threads];
    bool started[max_threads] = {};
    for (std::size_t i = 1; i < count; ++i) {
        jobs[i] = {task, ctx, i};
        started[i] = start_thread(&threads[i], &jobs[i]);
    }
    task(ctx, 0);
    for (std::size_t i = 1; i < count; ++i) {
        if (started[i]) {
            join_thread(threads[i]);
        } else {
            task(ctx, i);
        }
    }
}

}  // namespace kama
