// TCPLab
