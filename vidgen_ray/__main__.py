from vidgen_ray.cli import main

main()
