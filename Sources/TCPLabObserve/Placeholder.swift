// TCPLabObserve
