// The segment vocabulary (SegmentKind, Endpoint, SegmentFate) lives in the pure schema module
// since the timeline's JSON carries it; every importer of TCPLabFault keeps seeing it.
@_exported import TCPLabSchema
// The rule model FaultPlan.linearize() returns (NFTTable, ...), for callers that print or install it.
@_exported import TCPLabRules
