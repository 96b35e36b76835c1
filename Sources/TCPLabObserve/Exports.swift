// The timeline's records (TimelineEvent, TimelineCapture, TimelineRecord) live in the pure
// schema module, which faultproxy's writer and the library's reader share; every importer of
// TCPLabObserve keeps seeing them.
@_exported import TCPLabSchema
