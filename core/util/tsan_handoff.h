// Hand-offs through a library ThreadSanitizer cannot see into. Debian's gRPC
// is not built for TSan. It calls an object cbx gave it (a certificate
// verifier, an authentication processor) on threads it started before the
// object was built, and destroys it on one of its threads once its own
// atomic reference count reaches zero. TSan sees the calls and the
// destructor (cbx code) but not gRPC's hand-off, and reports them racing
// with the constructor and with one another. Such an object marks the end
// of its construction and of each call as a release, and the start of each
// call and of its destructor as an acquire: the edges gRPC's own
// synchronization provides (README "Sanitizers"). Outside a TSan build all
// of them are empty.
#ifndef CBX_CORE_UTIL_TSAN_HANDOFF_H_
#define CBX_CORE_UTIL_TSAN_HANDOFF_H_

#if defined(__SANITIZE_THREAD__)
#define CBX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CBX_TSAN 1
#endif
#endif

#ifdef CBX_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace cbx::util {

// This thread's work on `object` so far happens before whatever a later
// TsanHandoffAcquire(object) precedes.
inline void TsanHandoffRelease(const void* object) {
#ifdef CBX_TSAN
  __tsan_release(const_cast<void*>(object));
#else
  (void)object;
#endif
}

// Everything released on `object` happens before what follows.
inline void TsanHandoffAcquire(const void* object) {
#ifdef CBX_TSAN
  __tsan_acquire(const_cast<void*>(object));
#else
  (void)object;
#endif
}

// TsanHandoffRelease(object) when the scope ends, whichever way.
class TsanHandoffReleaseOnExit {
 public:
  explicit TsanHandoffReleaseOnExit(const void* object) : object_(object) {}
  ~TsanHandoffReleaseOnExit() { TsanHandoffRelease(object_); }
  TsanHandoffReleaseOnExit(const TsanHandoffReleaseOnExit&) = delete;
  TsanHandoffReleaseOnExit& operator=(const TsanHandoffReleaseOnExit&) =
      delete;

 private:
  const void* object_;
};

}  // namespace cbx::util

#endif  // CBX_CORE_UTIL_TSAN_HANDOFF_H_
