"""Python side of the exchange protocols: reference encoders and decoders, file and
pcap readers and writers, and session synthesis for demos and tests.

- `itch50`: NASDAQ TotalView-ITCH 5.0 messages and the NASDAQ binary file layout
- `moldudp64`: MoldUDP64 downstream packets
- `pcap`: classic libpcap files and Ethernet/IPv4/UDP frames
- `synth`: deterministic synthetic ITCH 5.0 sessions
"""
