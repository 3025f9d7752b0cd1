module hotspot

go 1.19
