// TCPLabFault
