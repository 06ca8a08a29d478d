// Hand-offs through a library ThreadSanitizer cannot see into. Debian's gRPC
// is not built for TSan: when it destroys an object cbx gave it (a
// certificate verifier) on one of its own threads, after its own atomic
// reference count reached zero, TSan sees the destructor (cbx code) but not
// the count, and reports it racing with the constructor and with every
// earlier call. The object marks the end of its construction and of each
// call gRPC makes into it as a release, and its destructor as the acquire
// that gRPC's count stands for (README "Sanitizers"). Outside a TSan build
// both are empty.
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

}  // namespace cbx::util

#endif  // CBX_CORE_UTIL_TSAN_HANDOFF_H_
