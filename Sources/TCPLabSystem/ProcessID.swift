import Glibc

/// getpid(), which cannot fail: names that must differ per process (tables, queue numbers).
public func currentProcessID() -> Int32 { getpid() }
