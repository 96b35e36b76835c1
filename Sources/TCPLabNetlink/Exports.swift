// The nftables rule model (NFTTable, NFTChain, NFTRule, NFTExpression, NFTRuleCounter) is plain
// values in TCPLabRules, which the pure planning module builds; this module translates it into
// libnftnl objects. Every importer of TCPLabNetlink keeps seeing it.
@_exported import TCPLabRules
