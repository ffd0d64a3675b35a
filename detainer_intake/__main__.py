from detainer_intake.cli import main

main()
