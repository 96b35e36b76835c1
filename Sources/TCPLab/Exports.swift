// Labs and other projects' tests that `import TCPLab` see the model and the judge as before.
@_exported import TCPLabModel

extension KernelParameters {
    /// Reads the namespace's sysctls (through /proc/sys inside it).
    public init(namespace: LabNamespace) {
        self.init(reading: { try? namespace.sysctl($0) })
    }
}
