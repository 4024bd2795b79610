// libpcap (Debian: libpcap-dev) for reading any pcap or pcapng file and compiling BPF filters.
#include <pcap/pcap.h>
