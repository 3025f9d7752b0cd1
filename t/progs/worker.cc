// worker: burns CPU in ns::Worker::crunch(int), which calls
// ns::mix(unsigned long), forced inline, in its hot loop.
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace ns {

static volatile unsigned long sink;

static double
cpu_seconds()
{
	timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((always_inline)) inline unsigned long
mix(unsigned long x)
{
	for (int i = 0; i < 4000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

class Worker {
public:
	explicit Worker(double secs) : secs_(secs) {}
	__attribute__((noinline)) unsigned long crunch(int rounds);
private:
	double secs_;
};

unsigned long
Worker::crunch(int rounds)
{
	double end = cpu_seconds() + secs_;
	unsigned long x = sink + rounds;

	while (cpu_seconds() < end)
		x = mix(x);
	sink = x;
	return x;
}

} // namespace ns

int
main(int argc, char **argv)
{
	ns::Worker w(argc > 1 ? std::atof(argv[1]) : 1.0);

	std::printf("worker %lu\n", w.crunch(3) & 1);
	return 0;
}
