#include "threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LREF_PAUSE() _mm_pause()
#else
#define LREF_PAUSE() std::this_thread::yield()
#endif

#include <chrono>
#include <memory>

namespace lref {

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  // The generation is read here, not when a thread first runs: a pool destroyed right after it
  // was made (setThreads after the first kernel) bumps it before a slow-starting worker looks,
  // and that worker would then wait for a job that never comes while the destructor joins it.
  const uint64_t start = generation_.load();
  try {
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, start] { worker_loop(start); });
  } catch (...) {
    // A thread could not be started: stop the ones that were (a joinable std::thread destroyed
    // by the unwinding would terminate the process), then report it as a JS error (addon.cc).
    stop_.store(true);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks() {
  uint64_t v = next_task_.load(std::memory_order_acquire);
  for (;;) {
    int n = n_tasks_;
    if ((int)(v & 0xffffffffu) >= n) break;
    if (!next_task_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
    (*fn_.load())((int)(v & 0xffffffffu));
    done_tasks_.fetch_add(1, std::memory_order_acq_rel);
    v = next_task_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop(uint64_t seen) {
  for (;;) {
    // Spin ~100 µs for the next job (kernels arrive back to back), then sleep.
    auto start = std::chrono::steady_clock::now();
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      LREF_PAUSE();
      if (++spins % 256 == 0 &&
          std::chrono::steady_clock::now() - start > std::chrono::microseconds(100)) {
        std::unique_lock<std::mutex> lock(mu_);
        sleepers_.fetch_add(1);
        cv_.wait(lock, [&] { return generation_.load() != seen || stop_.load(); });
        sleepers_.fetch_sub(1);
        break;
      }
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    run_tasks();
  }
}

void ThreadPool::parallel_for(int n_tasks, const std::function<void(int)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int t = 0; t < n_tasks; ++t) fn(t);
    return;
  }
  fn_ = &fn;
  n_tasks_ = n_tasks;
  done_tasks_.store(0);
  next_task_.store((++job_) << 32);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  if (sleepers_.load() > 0) cv_.notify_all();
  run_tasks();
  // A worker still holds a task. Spin briefly; if it was descheduled (a busy shared machine),
  // yield the core to it rather than burning our timeslice.
  for (int spins = 0; done_tasks_.load(std::memory_order_acquire) < n_tasks; ++spins) {
    if (spins < 4096)
      LREF_PAUSE();
    else
      std::this_thread::yield();
  }
}

static std::unique_ptr<ThreadPool> g_pool;

ThreadPool& pool() {
  if (!g_pool) {
    unsigned n = std::thread::hardware_concurrency();
    g_pool = std::make_unique<ThreadPool>(n == 0 ? 1 : (int)n);
  }
  return *g_pool;
}

void set_pool_threads(int n) { g_pool = std::make_unique<ThreadPool>(n); }

}  // namespace lref
