/* dlopener: dlopen()s the library argv[1] (a path), calls its
 * plugin_burn(argv[2] seconds), and dlclose()s it. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	void (*burn)(double);
	void *h;

	if (argc < 2 || (h = dlopen(argv[1], RTLD_NOW)) == NULL) {
		fprintf(stderr, "dlopener: %s\n", argc < 2 ? "no library" : dlerror());
		return 1;
	}
	if ((burn = (void (*)(double))dlsym(h, "plugin_burn")) == NULL) {
		fprintf(stderr, "dlopener: %s\n", dlerror());
		return 1;
	}
	burn(argc > 2 ? atof(argv[2]) : 1.0);
	dlclose(h);
	puts("dlopener done");
	return 0;
}
