// A tiny persistent thread pool: the calling thread plus (n-1) workers share the tasks of one
// parallel_for. Workers spin briefly before sleeping, because a training step issues hundreds of
// kernels back to back and a futex wake per kernel would cost more than the small ones themselves.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lref {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  int size() const { return n_threads_; }
  // Runs fn(task) for task in [0, n_tasks), spread over all threads; returns when all are done.
  void parallel_for(int n_tasks, const std::function<void(int)>& fn);

 private:
  void worker_loop(uint64_t seen);
  void run_tasks();
  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  // (job id << 32) | next task index: a worker that wakes late for a finished job cannot take
  // a task of the next one, because its compare-and-swap names the old job id.
  std::atomic<uint64_t> next_task_{0};
  std::atomic<int> done_tasks_{0};
  uint64_t job_ = 0;
  std::atomic<int> sleepers_{0};
  std::atomic<int> n_tasks_{0};
  std::atomic<const std::function<void(int)>*> fn_{nullptr};
  std::atomic<bool> stop_{false};
};

ThreadPool& pool();
void set_pool_threads(int n);

}  // namespace lref
